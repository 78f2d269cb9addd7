/**
 * A second Worker that calls vulk-keys through a service binding, as another VULK Worker would:
 * POST {method, args} → what crossed the binding — `{result}`, `{response}` for a Response, or
 * `{threw}` when the call threw (which the RPC contract forbids).
 */
export default {
  async fetch(request, env) {
    const { method, args } = await request.json();
    try {
      const result = await env.KEYS[method](...args);
      if (result instanceof Response) {
        const response = {
          status: result.status,
          contentType: result.headers.get("Content-Type"),
          billing: result.headers.get("X-Vulk-Billing"),
          keyHint: result.headers.get("X-Vulk-Key-Hint"),
          body: await result.json(),
        };
        return Response.json({ response });
      }
      return Response.json({ result });
    } catch (error) {
      return Response.json({
        threw: { name: error?.name ?? null, message: String(error?.message), code: error?.code ?? null },
      });
    }
  },
};
