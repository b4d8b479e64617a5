FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY schema ./schema
COPY geodata ./geodata
RUN pip install --no-cache-dir -e .
RUN useradd --system pathways
USER pathways
EXPOSE 8000
CMD ["pathways", "serve"]
