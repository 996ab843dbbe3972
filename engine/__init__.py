"""The aftersales process engine: deployments, versions, instances, tasks, timers.

Built on SpiffWorkflow. This package never imports Flask or ``web``; the web layer and
the CLI construct an :class:`engine.service.ProcessEngine` through ``engine.wiring``.
"""
