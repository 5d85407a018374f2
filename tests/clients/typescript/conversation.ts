// A whole conversation through the generated TypeScript client (openapi-fetch + clients/typescript).
//
// Why: the types are generated from openapi.yaml; compiling this file with tsc --strict proves that
// the calls below are what the contract allows, and running it against the local host proves that
// the server answers what the types promise. tests/clients/test_typescript_client.py compiles and
// runs it: node conversation.js BASE_URL SESSION. It prints one JSON line per step, then "ok".
import createClient from "openapi-fetch";
import type { components, paths } from "../../../clients/typescript/schema";

declare const process: { argv: string[] };

type RunResult = components["schemas"]["RunResult"];
type RunAccepted = components["schemas"]["RunAccepted"];
type RunHeaders = NonNullable<paths["/agents/{agentName}/run"]["post"]["parameters"]["header"]>;

const [baseUrl, session] = process.argv.slice(2);
const agentName = "WeatherAgent";
const api = createClient<paths>({ baseUrl });

function check(condition: unknown, what: string, got?: unknown): asserts condition {
  if (!condition) {
    throw new Error(`${what} (got ${JSON.stringify(got)})`);
  }
}

function step(name: string, detail: unknown): void {
  console.log(JSON.stringify({ step: name, detail }));
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(message: string, headers: RunHeaders = {}) {
  return api.POST("/agents/{agentName}/run", {
    params: { path: { agentName }, header: headers },
    body: { message, sessionId: session },
  });
}

// health
const health = await api.GET("/health");
check(health.response.status === 200 && health.data, "health is 200", health.error);
check(health.data.agents.map((a) => a.name).join() === "WeatherAgent,MathAgent", "both agents", health.data);
step("health", health.data.agent_count);

// two turns in one session
const first = await run("What is the weather like in Seattle?");
check(first.response.status === 200 && first.data, "first turn is 200", first.error);
const firstReply = first.data as RunResult;
check(
  firstReply.response === "Here is what I found: location=Seattle, temperature=72, conditions=Sunny.",
  "the weather tool answered",
  firstReply.response,
);
check(firstReply.sessionId === session && firstReply.message_count === 1, "turn 1 of the session", firstReply);
const second = await run("hello again");
check(second.response.status === 200 && second.data, "second turn is 200", second.error);
const secondReply = second.data as RunResult;
check(
  secondReply.response === "You said: 'hello again'. This is offline reply #2 in this conversation.",
  "the second turn saw the first",
  secondReply.response,
);
check(second.response.headers.get("x-ms-session-id") === session, "x-ms-session-id header");
step("two turns", [firstReply.turn, secondReply.turn]);

// the conversation
const conversation = await api.GET("/agents/{agentName}/{sessionId}", {
  params: { path: { agentName, sessionId: session } },
});
check(conversation.data, "conversation is 200", conversation.error);
check(conversation.data.message_count === 2, "two user messages", conversation.data.message_count);
const roles = conversation.data.conversation_history.map((e) => e.role).join();
check(roles === "user,assistant,user,assistant", "history roles", roles);
check(
  conversation.data.conversation_history[1].agent_response?.tool_calls[0]?.name === "get_weather",
  "the tool call is in the history",
  conversation.data.conversation_history[1],
);
step("conversation", conversation.data.message_count);

// Idempotency-Key: a retry replays the stored result; the same key with another body is a 422
const key = `key-${session}`;
const once = await run("once", { "Idempotency-Key": key });
const again = await run("once", { "Idempotency-Key": key });
check(once.data && again.data, "idempotent runs are 200", [once.error, again.error]);
check(JSON.stringify(once.data) === JSON.stringify(again.data), "the retry is a replay", again.data);
check((once.data as RunResult).correlationId === key, "the key is the correlation id", once.data);
const reused = await run("twice", { "Idempotency-Key": key });
check(reused.response.status === 422 && reused.error, "a reused key is a 422", reused.response.status);
check(reused.error.type === "https://durableagent.dev/problems/idempotency-key-reused", "problem type", reused.error);
step("idempotency", (once.data as RunResult).turn);

// 202 + Location, polled through the client
const slow = await run("slow #sleep:1", { Prefer: "wait=0.2" });
check(slow.response.status === 202 && slow.data, "a slow turn answers 202", slow.response.status);
const accepted = slow.data as RunAccepted;
check(slow.response.headers.get("location") === accepted.location, "Location header = body.location");
check(
  accepted.location.endsWith(`/api/agents/${agentName}/${session}/turns/${accepted.correlationId}`),
  "Location names the turn",
  accepted.location,
);
const turnPath = { agentName, sessionId: session, correlationId: accepted.correlationId };
let polled = await api.GET("/agents/{agentName}/{sessionId}/turns/{correlationId}", { params: { path: turnPath } });
for (let i = 0; i < 150 && polled.response.status === 202; i++) {
  await sleep(200); // polling Location until the turn is no longer 202 (bounded above)
  polled = await api.GET("/agents/{agentName}/{sessionId}/turns/{correlationId}", { params: { path: turnPath } });
}
check(polled.response.status === 200 && polled.data, "the turn finished", polled.response.status);
const done = polled.data as RunResult;
check(
  done.response === "You said: 'slow #sleep:1'. This is offline reply #4 in this conversation.",
  "the polled result",
  done.response,
);
step("202 then 200", done.turn);

// reset, then the session is gone
const reset = await api.DELETE("/agents/{agentName}/{sessionId}", {
  params: { path: { agentName, sessionId: session } },
});
check(reset.data?.status === "reset" && reset.data.sessionId === session, "reset", reset.data ?? reset.error);
const gone = await api.GET("/agents/{agentName}/{sessionId}", {
  params: { path: { agentName, sessionId: session } },
});
check(gone.response.status === 404 && gone.error?.status === 404, "the reset session is gone", gone.response.status);
step("reset", reset.data.status);

const end = await api.GET("/health");
check(end.data?.status === "healthy", "health after the conversation", end.data);
console.log("ok");
