FROM python:3.12-slim
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm git && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . .
RUN npm ci --no-audit --no-fund && pip install --no-cache-dir .
ENV PYTHONUNBUFFERED=1
EXPOSE 5000
CMD ["aftersales", "serve", "--host", "0.0.0.0", "--port", "5000", "--workers", "4"]
