// The peer of the benchmarks: a minimal Probot 14 app that answers `@ghapp-bench help` the
// way ghapp's mention-reply does (an `eyes` reaction, then a reply). benchmarks/_common.py
// copies this file into the git-ignored .cache/probot-peer/, where Probot is installed
// with npm, and runs it with node there. Settings come from the environment.
import http from "node:http";
import { Probot, ProbotOctokit, createNodeMiddleware } from "probot";

const probot = new Probot({
  appId: Number(process.env.APP_ID),
  privateKey: process.env.PRIVATE_KEY,
  secret: process.env.WEBHOOK_SECRET,
  baseUrl: process.env.GITHUB_API_URL,
  logLevel: "warn",
  // Pacing off, as ghapp's GITHUB_PACING=off in the benchmarks: Probot's throttling plugin
  // would space writes a second apart per installation (the fake has no secondary limit).
  // (A function: it sees the options Probot builds, throttle included, and has the last word.)
  Octokit: ProbotOctokit.defaults((options) => ({
    ...options,
    throttle: { ...options.throttle, enabled: false },
  })),
});

const HELP = "| Command | What it does |\n| --- | --- |\n| `@ghapp-bench help` | Lists the commands. |";

const app = (bot) => {
  bot.on("issue_comment.created", async (context) => {
    const body = context.payload.comment.body || "";
    if (!/@ghapp-bench\s+help\b/.test(body)) return;
    const comment_id = context.payload.comment.id;
    await context.octokit.rest.reactions.createForIssueComment(
      context.repo({ comment_id, content: "eyes" }),
    );
    await context.octokit.rest.issues.createComment(context.issue({ body: HELP }));
  });
};

const middleware = await createNodeMiddleware(app, {
  probot,
  webhooksPath: "/api/github/webhooks",
});
http
  .createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"status":"ok"}');
      return;
    }
    middleware(req, res, () => {
      res.writeHead(404);
      res.end();
    });
  })
  .listen(Number(process.env.PORT), "127.0.0.1");
