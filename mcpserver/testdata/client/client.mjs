// Drives distill's MCP server with the official TypeScript SDK client and
// prints what it saw as one JSON object, for mcpserver's end-to-end test
// (which makes the assertions).
//
//   node client.mjs stdio DISTILL_BINARY ARG...   # starts `DISTILL_BINARY ARG...`
//   node client.mjs http URL [API_KEY]
//
// With DISTILL_MCP_WRITE=1 it also adds a document with ingest_text and
// searches for it, then removes it.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [mode, target, ...rest] = process.argv.slice(2);

function transport() {
  if (mode === "stdio") {
    return new StdioClientTransport({ command: target, args: rest, env: process.env, stderr: "inherit" });
  }
  if (mode === "http") {
    const headers = rest[0] ? { Authorization: `Bearer ${rest[0]}` } : {};
    return new StreamableHTTPClientTransport(new URL(target), { requestInit: { headers } });
  }
  throw new Error(`usage: client.mjs stdio BINARY ARG... | http URL [KEY]`);
}

// call returns a tool's outcome: its structured content, or its error text.
async function call(client, name, args) {
  const res = await client.callTool({ name, arguments: args });
  if (res.isError) {
    return { isError: true, text: res.content.map((c) => c.text).join("") };
  }
  return { isError: false, structured: res.structuredContent, text: res.content[0]?.text };
}

const out = {};
const client = new Client({ name: "distill-e2e", version: "1.0.0" });
try {
  await client.connect(transport());
} catch (err) {
  out.connectError = { message: String(err?.message ?? err), code: err?.code ?? null };
  console.log(JSON.stringify(out));
  process.exit(0);
}
try {
  out.server = client.getServerVersion();
  out.instructions = client.getInstructions();
  const { tools } = await client.listTools();
  out.tools = tools.map((t) => ({ name: t.name, description: t.description, inputSchema: t.inputSchema, hasOutputSchema: !!t.outputSchema }));
  out.techniques = await call(client, "list_techniques", {});
  out.documents = await call(client, "list_documents", {});
  out.search = await call(client, "search", { question: "Borealis Optics acquisition", technique: "regular", k: 2 });
  out.ask = await call(client, "ask", { question: "What did Alpha acquire in 2022?", technique: "regular" });
  const top = out.search.structured?.contexts?.[0];
  if (top) {
    out.page = await call(client, "read_page", { doc_id: top.doc_id, page: top.page });
    const res = await client.readResource({ uri: top.uri });
    out.resource = res.contents.map((c) => ({ uri: c.uri, mimeType: c.mimeType, text: c.text }));
  }
  out.unknownTechnique = await call(client, "search", { question: "q", technique: "nope" });
  out.noPage = await call(client, "read_page", { doc_id: "nope", page: 1 });
  if (process.env.DISTILL_MCP_WRITE !== "1") {
    try {
      out.writeWithoutWrites = await call(client, "ingest_text", { name: "x.md", text: "x" });
    } catch (err) {
      out.writeWithoutWrites = { thrown: String(err?.message ?? err) };
    }
  } else {
    out.ingest = await call(client, "ingest_text", { name: "quokka.md", text: "# Quokkas\n\nThe quokka census counted 412 animals." });
    out.searchAdded = await call(client, "search", { question: "quokka census", technique: "regular" });
    out.remove = await call(client, "remove_document", { doc_id: out.ingest.structured?.doc_id });
    out.searchRemoved = await call(client, "search", { question: "quokka census", technique: "regular" });
  }
} catch (err) {
  out.error = String(err?.stack ?? err);
} finally {
  await client.close();
}
console.log(JSON.stringify(out));
