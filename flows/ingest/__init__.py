"""Ingestion of the exports of the tools ministries use: files read, columns mapped, rows checked."""
