// Dev-PyNode (seed 001, "Monitoring Guide"), written as the seed writes it: express and prom-client
// with the seed's HTTP, database and AI metrics (same names, labels and buckets), its /health (a
// services map, 503 when unhealthy) and the Kubernetes /ready probe. A middleware records every
// request, /metrics and /health included, as apps built from the seed do.
//
// The AI layer is a stand-in: POST /api/ai/chat {model, provider, tokens_in, tokens_out,
// simulate_seconds, fail} sleeps and answers, so the traffic generator knows each request's truth.
// Health is steered by the JSON file in LLMWATCH_APP_STATE ({"down": ["database"]}).
//
// Run: node dev_pynode.js PORT
'use strict';
const fs = require('fs');
const express = require('express');
const promClient = require('prom-client');

promClient.collectDefaultMetrics();

const httpRequestDuration = new promClient.Histogram({
  name: 'http_request_duration_seconds',
  help: 'Duration of HTTP requests in seconds',
  labelNames: ['method', 'route', 'status_code'],
  buckets: [0.1, 0.3, 0.5, 0.7, 1, 3, 5, 7, 10]
});
const httpRequestTotal = new promClient.Counter({
  name: 'http_requests_total',
  help: 'Total number of HTTP requests',
  labelNames: ['method', 'route', 'status_code']
});
const activeConnections = new promClient.Gauge({ name: 'active_connections', help: 'Number of active connections' });
const dbConnections = new promClient.Gauge({
  name: 'database_connections_active', help: 'Number of active database connections', labelNames: ['database']
});
const aiRequestsTotal = new promClient.Counter({
  name: 'ai_requests_total', help: 'Total number of AI requests', labelNames: ['model', 'provider', 'status']
});
const aiRequestDuration = new promClient.Histogram({
  name: 'ai_request_duration_seconds', help: 'Duration of AI requests in seconds', labelNames: ['model', 'provider']
});
const aiTokensUsed = new promClient.Counter({
  name: 'ai_tokens_used_total', help: 'Total number of AI tokens used', labelNames: ['model', 'provider', 'token_type']
});

function state() {
  const path = process.env.LLMWATCH_APP_STATE;
  if (!path) return {};
  try { return JSON.parse(fs.readFileSync(path, 'utf8')); } catch (e) { return {}; }
}

const app = express();
app.use(express.json());
app.use((req, res, next) => {
  const end = httpRequestDuration.startTimer();
  activeConnections.inc();
  res.on('finish', () => {
    const route = req.route ? req.baseUrl + req.route.path : req.path;
    const labels = { method: req.method, route: route, status_code: String(res.statusCode) };
    end(labels);
    httpRequestTotal.inc(labels);
    activeConnections.dec();
  });
  next();
});

app.get('/health', async (req, res) => {
  const down = state().down || [];
  const health = {
    status: 'healthy', timestamp: new Date().toISOString(), version: process.env.APP_VERSION || '1.0.0',
    uptime: process.uptime(), services: {}
  };
  for (const name of ['database', 'redis', 'storage']) {
    health.services[name] = down.includes(name) ? 'disconnected' : 'connected';
    if (down.includes(name)) health.status = 'unhealthy';
  }
  dbConnections.set({ database: 'postgres' }, down.includes('database') ? 0 : 4);
  res.status(health.status === 'healthy' ? 200 : 503).json(health);
});

app.get('/ready', (req, res) => {
  const down = state().down || [];
  res.status(down.length ? 503 : 200).json({ status: down.length ? 'not ready' : 'ready' });
});

app.post('/api/ai/chat', async (req, res) => {
  const b = req.body || {};
  const model = b.model || 'gpt-4', provider = b.provider || 'openai';
  const end = aiRequestDuration.startTimer({ model: model, provider: provider });
  await new Promise((r) => setTimeout(r, 1000 * (b.simulate_seconds || 0.1)));
  end();
  if (b.fail) {
    aiRequestsTotal.inc({ model: model, provider: provider, status: 'error' });
    return res.status(502).json({ error: 'upstream AI provider failed' });
  }
  aiRequestsTotal.inc({ model: model, provider: provider, status: 'success' });
  aiTokensUsed.inc({ model: model, provider: provider, token_type: 'input' }, b.tokens_in || 0);
  aiTokensUsed.inc({ model: model, provider: provider, token_type: 'output' }, b.tokens_out || 0);
  res.json({ model: model, content: 'ok', usage: { input: b.tokens_in || 0, output: b.tokens_out || 0 } });
});

app.get('/metrics', async (req, res) => {
  res.set('Content-Type', promClient.register.contentType);
  res.end(await promClient.register.metrics());
});

app.listen(Number(process.argv[2]), '127.0.0.1');
