"""Qwen-VL Desktop: a native desktop client for Qwen vision-language models."""

__version__ = "0.1.0"
