"""Code LLM API (seed 004, "Production Monitoring Guide"), written as the seed writes it.

FastAPI with prometheus-fastapi-instrumentator (`instrumentator.instrument(app).expose(app,
endpoint="/metrics")`) and the seed's prometheus_client metrics: generation_requests_total,
generation_tokens (histogram, buckets 10..500), generation_latency_seconds (buckets .1..10),
active_generation_requests, generation_errors_total{error_type}. /health and /health/detailed
answer the seed's JSON. The model is a stand-in: it sleeps `simulate_seconds` and "generates"
max_length tokens, so the traffic generator knows every request's truth.

Run: python code_llm_api.py PORT
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import datetime

import uvicorn
from fastapi import FastAPI, HTTPException
from prometheus_client import Counter, Gauge, Histogram
from prometheus_fastapi_instrumentator import Instrumentator
from pydantic import BaseModel

from _state import healthy

app = FastAPI()
instrumentator = Instrumentator()

generation_requests = Counter('generation_requests_total', 'Total number of generation requests')
generation_tokens = Histogram('generation_tokens', 'Number of tokens generated per request',
                              buckets=[10, 25, 50, 100, 200, 300, 500])
generation_latency = Histogram('generation_latency_seconds', 'Time taken to generate code',
                               buckets=[0.1, 0.5, 1.0, 2.0, 5.0, 10.0])
active_requests = Gauge('active_generation_requests', 'Number of currently processing requests')
generation_errors = Counter('generation_errors_total', 'Total number of generation errors', ['error_type'])


class GenerateRequest(BaseModel):
    prompt: str
    max_length: int = 100
    temperature: float = 0.7
    top_k: int = 50
    top_p: float = 0.9
    simulate_seconds: float = 0.2      # the stand-in model's generation time
    simulate_error: str = ""           # "", "validation", "oom" or "unknown"


class OutOfMemoryError(Exception):
    """Stands in for torch.cuda.OutOfMemoryError."""


class ModelManager:
    model = object()
    device = "cpu"

    async def generate(self, req: GenerateRequest):
        start = time.time()
        await asyncio.sleep(req.simulate_seconds)
        if req.simulate_error == "validation":
            raise ValueError("prompt too long")
        if req.simulate_error == "oom":
            raise OutOfMemoryError()
        if req.simulate_error:
            raise RuntimeError("model crashed")
        return "echo hello\n" * 3, req.max_length, time.time() - start


model_manager = ModelManager()


@app.get("/health")
async def health_check():
    ok = healthy()
    return {"status": "healthy" if ok else "unhealthy", "timestamp": datetime.now().isoformat(),
            "model_loaded": ok, "device": str(model_manager.device)}


@app.get("/health/detailed")
async def detailed_health():
    if not healthy():
        return {"status": "unhealthy", "error": "CUDA error: out of memory", "timestamp": datetime.now().isoformat()}
    return {"status": "healthy", "timestamp": datetime.now().isoformat(),
            "model": {"loaded": True, "vocab_size": 32000, "inference_test_ms": 12.5},
            "system": {"device": "cpu", "python_version": sys.version}}


@app.post("/generate")
async def generate_code(request: GenerateRequest):
    generation_requests.inc()
    active_requests.inc()
    try:
        code, num_tokens, gen_time = await model_manager.generate(request)
        generation_latency.observe(gen_time)
        generation_tokens.observe(num_tokens)
        return {"generated_code": code, "prompt": request.prompt, "num_tokens_generated": num_tokens,
                "generation_time": gen_time}
    except ValueError as e:
        generation_errors.labels(error_type='validation').inc()
        raise HTTPException(status_code=400, detail=str(e))
    except OutOfMemoryError:
        generation_errors.labels(error_type='oom').inc()
        raise HTTPException(status_code=503, detail="Out of memory")
    except Exception:
        generation_errors.labels(error_type='unknown').inc()
        raise HTTPException(status_code=500, detail="Internal server error")
    finally:
        active_requests.dec()


instrumentator.instrument(app).expose(app, endpoint="/metrics")

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
