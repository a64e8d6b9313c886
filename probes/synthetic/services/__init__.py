"""One module per fake system; SERVICES maps service (= Prometheus job) name to its class."""

from __future__ import annotations

from probes.synthetic.service import Service
from probes.synthetic.services.ai_forge import AiForge
from probes.synthetic.services.code_llm import CodeLlmApi
from probes.synthetic.services.dcgm import Dcgm
from probes.synthetic.services.dev_pynode import DevPyNode
from probes.synthetic.services.gateway import ApiGateway
from probes.synthetic.services.litellm import LiteLLM
from probes.synthetic.services.node import NodeExporter
from probes.synthetic.services.ollama import Ollama
from probes.synthetic.services.tinycode import TinyCode
from probes.synthetic.services.vllm import Vllm

REQUIRED: tuple[type[Service], ...] = (TinyCode, DevPyNode, ApiGateway, AiForge, CodeLlmApi, Ollama, Vllm,
                                       LiteLLM, Dcgm)
EXTRAS: tuple[type[Service], ...] = (NodeExporter,)
SERVICES: dict[str, type[Service]] = {c.name: c for c in REQUIRED + EXTRAS}
REQUIRED_NAMES: tuple[str, ...] = tuple(c.name for c in REQUIRED)
