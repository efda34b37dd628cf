#!/usr/bin/env node
// Offline validation of the Kubernetes manifests under jobs/: renders every kustomization with
// kustomize (kubectl kustomize) and checks every rendered object against the Kubernetes API
// schemas of the kubernetes-models package, three ways:
//   1. JSON schema (the OpenAPI definitions, compiled with ajv): types, enums, required fields.
//   2. Unknown fields: the same definitions as TypeScript interfaces, with the rendered objects
//      as object literals; the TypeScript checker rejects any property the API does not define
//      (a misspelt `completionMod` or `readOnlyRootFilesytem`), at any depth.
//   3. References within a rendering: ConfigMaps, PVCs, ServiceAccounts, Services and workloads
//      that a pod spec, Service, HPA or PDB names must be in it (Secrets the user creates by hand
//      are listed in EXTERNAL_SECRETS), probes name real ports, an Indexed Job's
//      LLMEVAL_SHARD_COUNT equals its completions, and the API server's rules for the Job
//      fields used here (backoffLimitPerIndex, maxFailedIndexes, podFailurePolicy) hold.
//   4. Policy: what jobs/README.md promises about particular objects, wherever they are rendered:
//      the serve PDB lets unhealthy pods be evicted, Redis has an explicit grace period, and each
//      way a shard pod can end (llmeval's exit codes, a SIGTERM, an OOM kill, a crash) meets the
//      eval Job's podFailurePolicy as documented: its command runs under /bin/sh with a fake
//      llmeval that ends that way, and the policy is applied to the exit code as the Job
//      controller applies it.
// Before that it proves it can fail: each kustomization under fixtures/ breaks one thing on
// purpose and must be rejected with the message in its expect.txt.
//
// Usage: node tests/k8s/validate.mjs [--verbose]     (KUSTOMIZE="kustomize build" to use the
// standalone binary instead of kubectl kustomize). Exit 0 when all is well, 1 otherwise.
import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import {
  chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import YAML from "yaml";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "../..");
const verbose = process.argv.includes("--verbose");

// Secrets the manifests reference but that the user creates (jobs/README.md), never rendered.
const EXTERNAL_SECRETS = new Set(["llmeval-provider-keys", "llmeval-api-tokens"]);
const MIN_KUSTOMIZE_MAJOR = 5; // components, labels and replacements as used in jobs/

// ---------------------------------------------------------------------------------- rendering

function kustomizeCommand() {
  if (process.env.KUSTOMIZE) {
    const [cmd, ...args] = process.env.KUSTOMIZE.split(/\s+/).filter(Boolean);
    return { cmd, args, version: "from $KUSTOMIZE" };
  }
  let info;
  try {
    info = JSON.parse(execFileSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8" }));
  } catch (e) {
    throw new Error(`kubectl not found or not working (${e.message.split("\n")[0]}); ` +
      `install kubectl >= 1.27 (kustomize v5), or set KUSTOMIZE="kustomize build"`);
  }
  const version = info.kustomizeVersion || "";
  const major = Number((version.match(/^v?(\d+)\./) || [])[1]);
  if (!(major >= MIN_KUSTOMIZE_MAJOR)) {
    throw new Error(`kubectl ${info.clientVersion?.gitVersion} has kustomize ${version || "(unknown)"}; ` +
      `jobs/ needs kustomize v${MIN_KUSTOMIZE_MAJOR} (kubectl >= 1.27), or set KUSTOMIZE="kustomize build"`);
  }
  return { cmd: "kubectl", args: ["kustomize"], version: `kubectl ${info.clientVersion?.gitVersion}, kustomize ${version}` };
}

async function render(kustomize, dir) {
  try {
    const { stdout } = await promisify(execFile)(kustomize.cmd, [...kustomize.args, dir], {
      encoding: "utf8", maxBuffer: 64 << 20,
    });
    return stdout;
  } catch (e) {
    throw new Error(`kustomize failed: ${(e.stderr || e.message).trim()}`);
  }
}

function parseObjects(text) {
  const objects = [];
  for (const doc of YAML.parseAllDocuments(text, { uniqueKeys: true })) {
    if (doc.errors.length) throw new Error(`YAML: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value !== null && value !== undefined) objects.push(value);
  }
  return objects;
}

// Kustomization directories under root (components cannot be rendered alone: skipped).
function kustomizations(root) {
  const found = [];
  const walk = (dir) => {
    const file = ["kustomization.yaml", "kustomization.yml", "Kustomization"]
      .map((f) => path.join(dir, f)).find((f) => existsSync(f));
    if (file && YAML.parse(readFileSync(file, "utf8"))?.kind !== "Component") found.push(dir);
    for (const entry of readdirSync(dir).sort()) {
      const sub = path.join(dir, entry);
      if (entry !== "node_modules" && statSync(sub).isDirectory()) walk(sub);
    }
  };
  walk(root);
  return found;
}

// ------------------------------------------------------------------------------------ schemas

function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  return `kubernetes-models/${group ? `${group}/` : ""}${version}/${kind}`;
}

const modelCache = new Map();
async function loadModel(apiVersion, kind) {
  const spec = modelPath(apiVersion, kind);
  if (!modelCache.has(spec)) {
    modelCache.set(spec, import(spec).then((m) => m[kind]).catch(() => undefined));
  }
  return modelCache.get(spec);
}

// 1. JSON schema.
async function schemaErrors(obj) {
  if (typeof obj.apiVersion !== "string" || typeof obj.kind !== "string") return ["no apiVersion/kind"];
  const Model = await loadModel(obj.apiVersion, obj.kind);
  if (!Model) return [`no schema for ${obj.apiVersion} ${obj.kind} (only core Kubernetes kinds are allowed)`];
  try {
    new Model(obj).validate();
    return [];
  } catch (e) {
    return String(e.message).split(/,\s*(?=data\/)|\n/).map((m) => m.replace(/^data/, "").trim()).filter(Boolean);
  }
}

// A JSON literal with one property (or array element) per line, so that a diagnostic's line
// tells which field it is about (linePaths).
function literal(value, indent = 0) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const pad = "  ".repeat(indent + 1);
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) return Array.isArray(value) ? "[]" : "{}";
  const parts = entries.map(([k, v]) => {
    return `${pad}${Array.isArray(value) ? "" : `${JSON.stringify(k)}: `}${literal(v, indent + 1)}`;
  });
  return `${Array.isArray(value) ? "[" : "{"}\n${parts.join(",\n")}\n${"  ".repeat(indent)}${Array.isArray(value) ? "]" : "}"}`;
}

// Same traversal as literal(), returning the path of every line of its output.
function linePaths(value, at = "", out = [""]) {
  if (value === null || typeof value !== "object") return out;
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  if (entries.length === 0) return out;
  for (const [k, v] of entries) {
    const p = Array.isArray(value) ? `${at}[${k}]` : at ? `${at}.${k}` : String(k);
    out.push(p);
    linePaths(v, p, out);
  }
  out.push(at); // the closing bracket
  return out;
}

// 2. Unknown fields (and types, again) with the TypeScript checker, all objects in one program.
function typeErrors(items) {
  const file = path.join(here, "__rendered__.ts");
  const imports = new Map();
  const body = [];
  const spans = []; // [firstLine, item, paths]
  let line = 0;
  const push = (text) => { body.push(text); line += text.split("\n").length; };
  items.forEach((item, i) => {
    const { apiVersion, kind } = item.obj;
    const spec = modelPath(apiVersion, kind);
    if (!imports.has(spec)) imports.set(spec, `T${imports.size}`);
    const text = `export const o${i}: ${imports.get(spec)} = ${literal(item.obj)};`;
    spans.push([line, item, linePaths(item.obj)]);
    push(text);
  });
  const header = [...imports].map(([spec, alias]) => {
    const kind = spec.split("/").pop();
    return `import type { I${kind} as ${alias} } from "${spec}";`;
  });
  const source = `${header.join("\n")}\n${body.join("\n")}\n`;
  const offset = header.length;

  const options = {
    noEmit: true, strict: true, skipLibCheck: true, types: [], lib: ["lib.es2022.d.ts"],
    target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, ...rest) =>
    path.resolve(name) === file ? ts.createSourceFile(name, source, lang) : getSourceFile(name, lang, ...rest);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => path.resolve(name) === file || fileExists(name);
  const readFile = host.readFile.bind(host);
  host.readFile = (name) => (path.resolve(name) === file ? source : readFile(name));
  const program = ts.createProgram([file], options, host);

  const byItem = new Map();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, " ");
    if (!d.file || path.resolve(d.file.fileName) !== file) {
      throw new Error(`TypeScript setup: ${message}`);
    }
    const { line: l } = d.file.getLineAndCharacterOfPosition(d.start);
    if (l < offset) throw new Error(`TypeScript setup: ${message}`);
    const rel = l - offset;
    let span = spans[0];
    for (const s of spans) if (s[0] <= rel) span = s;
    const [first, item, paths] = span;
    const where = paths[rel - first] ?? "";
    if (!byItem.has(item)) byItem.set(item, []);
    byItem.get(item).push(`${where ? `${where}: ` : ""}${message.replace(/'"([^"]+)"'/g, "'$1'")}`);
  }
  return byItem;
}

// ----------------------------------------------------------------------------- references

function podSpecOf(obj) {
  if (obj.kind === "Pod") return obj.spec;
  if (obj.kind === "CronJob") return obj.spec?.jobTemplate?.spec?.template?.spec;
  return obj.spec?.template?.spec;
}

function podLabelsOf(obj) {
  return obj.kind === "Pod" ? obj.metadata?.labels : obj.spec?.template?.metadata?.labels;
}

const matches = (selector, labels) =>
  !!selector && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

// 3. What one rendering names must be in it.
function referenceErrors(objects) {
  const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const errors = new Map();
  const add = (obj, msg) => {
    if (!errors.has(obj)) errors.set(obj, []);
    errors.get(obj).push(msg);
  };
  const need = (obj, kind, name, where) => {
    if (!find(kind, name)) add(obj, `${where}${kind} "${name}" is not rendered`);
  };
  const needSecret = (obj, name, where) => {
    if (!find("Secret", name) && !EXTERNAL_SECRETS.has(name)) {
      add(obj, `${where}Secret "${name}" is not rendered nor listed as created by hand`);
    }
  };
  const hasPods = (selector) => objects.some((o) => podSpecOf(o) && matches(selector, podLabelsOf(o)));

  for (const obj of objects) {
    const pod = podSpecOf(obj);
    if (pod) {
      if (pod.serviceAccountName) need(obj, "ServiceAccount", pod.serviceAccountName, "");
      const volumes = pod.volumes || [];
      for (const [i, v] of volumes.entries()) {
        const where = `volumes[${i}]: `;
        if (v.configMap && !v.configMap.optional) need(obj, "ConfigMap", v.configMap.name, where);
        if (v.persistentVolumeClaim) need(obj, "PersistentVolumeClaim", v.persistentVolumeClaim.claimName, where);
        if (v.secret && !v.secret.optional) needSecret(obj, v.secret.secretName, where);
      }
      const names = new Set(volumes.map((v) => v.name));
      for (const c of [...(pod.initContainers || []), ...(pod.containers || [])]) {
        for (const m of c.volumeMounts || []) {
          if (!names.has(m.name)) add(obj, `container ${c.name}: volumeMount "${m.name}" has no volume`);
        }
        for (const e of c.env || []) {
          const where = `container ${c.name}: env ${e.name}: `;
          const cm = e.valueFrom?.configMapKeyRef;
          if (cm && !cm.optional) {
            const target = find("ConfigMap", cm.name);
            if (!target) need(obj, "ConfigMap", cm.name, where);
            else if (!(cm.key in (target.data || {}))) add(obj, `${where}ConfigMap "${cm.name}" has no key "${cm.key}"`);
          }
          const secret = e.valueFrom?.secretKeyRef;
          if (secret) needSecret(obj, secret.name, where); // optional or not: a known name
        }
        if (/^llmeval(:|$)/.test(c.image || "")) {
          add(obj, `container ${c.name}: image "${c.image}" was not replaced (components/settings images)`);
        }
      }
    }
    if (obj.kind === "Job" && obj.spec?.completionMode === "Indexed") {
      for (const c of pod?.containers || []) {
        const env = (c.env || []).find((e) => e.name === "LLMEVAL_SHARD_COUNT");
        if (!env) continue;
        const cm = env.valueFrom?.configMapKeyRef;
        const value = cm ? find("ConfigMap", cm.name)?.data?.[cm.key] : env.value;
        if (String(value) !== String(obj.spec.completions)) {
          add(obj, `container ${c.name}: LLMEVAL_SHARD_COUNT ${value} differs from completions ${obj.spec.completions}`);
        }
      }
    }
    if (obj.kind === "Job") for (const m of jobRuleErrors(obj.spec || {}, pod || {})) add(obj, m);
    for (const c of pod?.containers || []) {
      const ports = new Set((c.ports || []).map((p) => p.name).filter(Boolean));
      for (const probe of ["startupProbe", "livenessProbe", "readinessProbe"]) {
        const port = c[probe]?.httpGet?.port ?? c[probe]?.tcpSocket?.port;
        if (typeof port === "string" && !ports.has(port)) add(obj, `container ${c.name}: ${probe} port "${port}" is not a named port`);
      }
    }
    if (obj.kind === "Service" && obj.spec?.selector && !hasPods(obj.spec.selector)) {
      add(obj, "spec.selector matches no rendered pod template");
    }
    if (obj.kind === "PodDisruptionBudget" && !hasPods(obj.spec?.selector?.matchLabels)) {
      add(obj, "spec.selector matches no rendered pod template");
    }
    if (obj.kind === "HorizontalPodAutoscaler") {
      const target = obj.spec?.scaleTargetRef || {};
      need(obj, target.kind, target.name, "scaleTargetRef: ");
    }
    if ((obj.kind === "Deployment" || obj.kind === "StatefulSet") &&
        !matches(obj.spec?.selector?.matchLabels, podLabelsOf(obj))) {
      add(obj, "spec.selector does not match the pod template's labels");
    }
  }
  return errors;
}

// The API server's own rules for the Job fields jobs/ relies on, which no schema states
// (pkg/apis/batch/validation): checked here so that a cluster does not have to find them.
function jobRuleErrors(spec, pod) {
  const errors = [];
  const indexed = spec.completionMode === "Indexed";
  if (spec.backoffLimitPerIndex !== undefined && !indexed) errors.push("backoffLimitPerIndex needs completionMode Indexed");
  if (spec.maxFailedIndexes !== undefined) {
    if (spec.backoffLimitPerIndex === undefined) errors.push("maxFailedIndexes needs backoffLimitPerIndex");
    if (!(spec.maxFailedIndexes <= spec.completions)) errors.push(`maxFailedIndexes ${spec.maxFailedIndexes} exceeds completions ${spec.completions}`);
  }
  if (indexed && !(spec.completions >= 1)) errors.push("an Indexed Job needs completions");
  const rules = spec.podFailurePolicy?.rules || [];
  if (rules.length && pod.restartPolicy !== "Never") errors.push("podFailurePolicy needs restartPolicy Never");
  if (rules.length && spec.podReplacementPolicy && spec.podReplacementPolicy !== "Failed") {
    errors.push("podFailurePolicy allows only podReplacementPolicy Failed");
  }
  const containers = new Set([...(pod.initContainers || []), ...(pod.containers || [])].map((c) => c.name));
  for (const [i, rule] of rules.entries()) {
    const where = `podFailurePolicy.rules[${i}]: `;
    if (rule.action === "FailIndex" && spec.backoffLimitPerIndex === undefined) errors.push(`${where}FailIndex needs backoffLimitPerIndex`);
    const codes = rule.onExitCodes;
    if (!codes) continue;
    if (codes.containerName && !containers.has(codes.containerName)) errors.push(`${where}no container "${codes.containerName}"`);
    const values = codes.values || [];
    if (values.some((v, j) => j > 0 && v <= values[j - 1])) errors.push(`${where}exit codes must be sorted without duplicates`);
    if (codes.operator === "In" && values.includes(0)) errors.push(`${where}exit code 0 cannot be In`);
  }
  return errors;
}

// ------------------------------------------------------------------------------------- policy

// 4. What jobs/README.md promises about particular objects (kind/name), checked in every
// rendering that holds them, so that a fixture can prove each check fails.
const POLICIES = {
  // A serve pod that runs but is not Ready serves nothing: evicting it must never wait for the
  // budget, or broken pods block every node drain.
  "PodDisruptionBudget/llmeval-serve": (pdb) => {
    const value = pdb.spec?.unhealthyPodEvictionPolicy;
    return value === "AlwaysAllow" ? [] : [
      `spec.unhealthyPodEvictionPolicy is ${value ?? "unset (IfHealthyBudget)"}, want AlwaysAllow: ` +
      "serve pods that are not Ready would hold up node drains"];
  },
  // Redis' shutdown time is a decision (base/redis.yaml says why), not the 30 s default.
  "Deployment/llmeval-redis": (deployment) => {
    const grace = deployment.spec?.template?.spec?.terminationGracePeriodSeconds;
    return Number.isInteger(grace) && grace >= 1 ? [] : [
      `spec.template.spec.terminationGracePeriodSeconds is ${grace ?? "unset"}, want an explicit number of ` +
      "seconds (>= 1) for Redis to shut down"];
  },
  "Job/llmeval-eval": (job, objects) => shardEndingErrors(job, objects),
};

async function policyErrors(objects) {
  const errors = new Map();
  for (const obj of objects) {
    const policy = POLICIES[`${obj.kind}/${obj.metadata?.name}`];
    const msgs = policy ? await policy(obj, objects) : [];
    if (msgs.length) errors.set(obj, msgs);
  }
  return errors;
}

// The ways a shard pod ends and what the eval Job must make of each (jobs/README.md, "Which
// endings are retried"). `fake` is how the fake llmeval ends; `signal` is sent to the pod's
// command (as the kubelet sends SIGTERM to PID 1) once llmeval runs; `conditions` are the pod's.
const SHARD_ENDINGS = [
  { what: "exit 0 (every row ok)", fake: "exit:0", want: "succeeded" },
  { what: "exit 1 (the shard ran to the end, some rows error/invalid)", fake: "exit:1", want: "succeeded" },
  { what: "exit 2 (usage or configuration error)", fake: "exit:2", want: "FailJob" },
  { what: "exit 130 after the pod's SIGTERM", fake: "term", signal: "SIGTERM", want: "Count" },
  { what: "exit 130 after the pod's SIGTERM, pod evicted", fake: "term", signal: "SIGTERM",
    conditions: ["DisruptionTarget"], want: "Ignore" },
  { what: "killed by SIGKILL (an OOM kill)", fake: "sig:KILL", want: "Count" },
  { what: "killed by SIGSEGV (a crash)", fake: "sig:SEGV", want: "Count" },
  { what: "absent from the image", fake: "missing", want: "FailJob" },
];

const OUTCOMES = {
  succeeded: "count the index as succeeded",
  Count: "retry the index, counting it against backoffLimitPerIndex",
  Ignore: "retry the index without counting it",
  FailIndex: "fail the index without a retry",
  FailJob: "fail the whole Job",
};

// The Job controller's podFailurePolicy for a pod of one container that ended with exitCode:
// the first rule that matches decides; none matching counts the failure (pkg/controller/job).
function podFailureAction(spec, container, exitCode, conditions = []) {
  if (exitCode === 0) return "succeeded";
  for (const rule of spec.podFailurePolicy?.rules || []) {
    const codes = rule.onExitCodes;
    if (codes && (!codes.containerName || codes.containerName === container)) {
      const listed = (codes.values || []).includes(exitCode);
      if (codes.operator === "In" ? listed : !listed) return rule.action;
    }
    for (const pattern of rule.onPodConditions || []) {
      if (conditions.includes(pattern.type) && (pattern.status ?? "True") === "True") return rule.action;
    }
  }
  return "Count";
}

// Kubernetes' $(VAR) expansion in command and args ($$ is a literal $; unknown names stay).
const expandVars = (text, env) =>
  text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => (m === "$$" ? "$" : name in env ? env[name] : m));

// A stand-in llmeval: records its arguments, then ends as $FAKE says.
const FAKE_LLMEVAL = `#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_DIR/args"
case $FAKE in
  exit:*) exit "\${FAKE#exit:}" ;;
  sig:*) ulimit -c 0; kill -s "\${FAKE#sig:}" $$ ;;
  term)
    trap ': > "$FAKE_DIR/got-TERM"; exit 130' TERM
    : > "$FAKE_DIR/running"
    while :; do sleep 0.02; done ;;
esac
`;

// Runs argv (the container's command) with the fake llmeval first on the PATH; returns the exit
// code a container runtime reports (128 + signal number for a signal), whether the fake got
// SIGTERM, and its arguments.
async function runPodCommand(argv, env, fake, signal) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "llmeval-k8s-"));
  try {
    const bin = path.join(dir, "bin");
    if (fake !== "missing") {
      mkdirSync(bin);
      writeFileSync(path.join(bin, "llmeval"), FAKE_LLMEVAL);
      chmodSync(path.join(bin, "llmeval"), 0o755);
    }
    const child = spawn(argv[0], argv.slice(1), {
      cwd: dir, detached: true, stdio: ["ignore", "ignore", "pipe"],
      env: { ...env, PATH: `${bin}:/usr/bin:/bin`, FAKE: fake, FAKE_DIR: dir },
    });
    let stderr = "";
    child.stderr?.on("data", (d) => { stderr += d; });
    // A command that cannot be started: the runtime's StartError, exit code 128.
    let done = false;
    const ended = new Promise((resolve) => {
      child.on("error", (e) => { stderr += e.message; done = true; resolve({ code: 128 }); });
      // "exit", not "close": a fake left running would hold stderr open.
      child.on("exit", (code, sig) => { done = true; resolve({ code, sig }); });
    });
    let timedOut = false;
    const kill = (s) => { try { process.kill(-child.pid, s); } catch { /* gone */ } };
    const timer = setTimeout(() => { timedOut = true; kill("SIGKILL"); }, 10000);
    if (signal) {
      while (!existsSync(path.join(dir, "running")) && !done) await new Promise((r) => setTimeout(r, 10));
      if (!done) child.kill(signal);
    }
    const { code, sig } = await ended;
    clearTimeout(timer);
    if (child.pid) kill("SIGKILL"); // a fake the command left behind
    const read = (f) => (existsSync(path.join(dir, f)) ? readFileSync(path.join(dir, f), "utf8") : null);
    return {
      exitCode: code ?? 128 + os.constants.signals[sig],
      timedOut,
      stderr: stderr.trim(),
      gotTerm: read("got-TERM") !== null,
      args: read("args")?.split("\n").slice(0, -1) ?? null,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const podRuns = new Map(); // the same command in several renderings runs once
function runPodCommandOnce(argv, env, fake, signal) {
  const key = JSON.stringify([argv, env, fake, signal]);
  if (!podRuns.has(key)) podRuns.set(key, runPodCommand(argv, env, fake, signal));
  return podRuns.get(key);
}

async function shardEndingErrors(job, objects) {
  const spec = job.spec || {};
  const container = podSpecOf(job)?.containers?.[0];
  if (!container) return ["no container"];
  const env = { JOB_COMPLETION_INDEX: "0" };
  for (const e of container.env || []) {
    const cm = e.valueFrom?.configMapKeyRef;
    const value = cm
      ? objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === cm.name)?.data?.[cm.key]
      : e.value;
    if (value !== undefined) env[e.name] = expandVars(String(value), env);
  }
  const argv = [...(container.command || ["llmeval"]), ...(container.args || [])].map((a) => expandVars(String(a), env));
  const errors = [];
  await Promise.all(SHARD_ENDINGS.map(async (ending) => {
    const run = await runPodCommandOnce(argv, env, ending.fake, ending.signal);
    const where = `llmeval ${ending.what}: `;
    if (run.timedOut) {
      errors.push(`${where}the pod's command did not end within 10 s${run.stderr ? ` (stderr: ${run.stderr})` : ""}`);
      return;
    }
    const action = podFailureAction(spec, container.name, run.exitCode, ending.conditions);
    if (action !== ending.want) {
      errors.push(`${where}the pod exits ${run.exitCode}, so Kubernetes would ${OUTCOMES[action] ?? action}; ` +
        `want it to ${OUTCOMES[ending.want]}`);
    }
    if (ending.signal === "SIGTERM" && !run.gotTerm) {
      errors.push(`${where}SIGTERM did not reach llmeval (the pod's command must pass it on, or the shard ` +
        "cannot record what finished before it is killed)");
    }
    if (ending.fake === "exit:0") {
      const args = run.args?.join(" ");
      const dataset = env.DATASET;
      if (!run.args || run.args[0] !== "run" || run.args[1] !== dataset ||
          !/ --shard auto /.test(` ${args} `) || !run.args.includes("--resume")) {
        errors.push(`${where}llmeval was started as "llmeval ${args ?? "(never)"}"; ` +
          `want "llmeval run ${dataset} --shard auto ... --resume ..."`);
      }
    }
  }));
  return errors.sort();
}

// ------------------------------------------------------------------------------------ driver

async function check(kustomize, dirs) {
  const rendered = dirs.map((dir) => render(kustomize, dir).catch((e) => e)); // all at once
  const results = []; // { dir, objects, errors: [string] }
  const items = [];
  for (const [i, dir] of dirs.entries()) {
    const result = { dir: path.relative(repo, dir), objects: [], errors: [] };
    results.push(result);
    try {
      const text = await rendered[i];
      if (text instanceof Error) throw text;
      result.objects = parseObjects(text);
    } catch (e) {
      result.errors.push(e.message);
      continue;
    }
    if (result.objects.length === 0) result.errors.push("renders no object");
    for (const obj of result.objects) {
      const name = `${obj.kind} ${obj.metadata?.name}`;
      for (const m of await schemaErrors(obj)) result.errors.push(`${name}: schema: ${m}`);
      if (await loadModel(obj.apiVersion, obj.kind)) items.push({ obj, result, name });
    }
    for (const [obj, msgs] of referenceErrors(result.objects)) {
      for (const m of msgs) result.errors.push(`${obj.kind} ${obj.metadata?.name}: rule: ${m}`);
    }
    for (const [obj, msgs] of await policyErrors(result.objects)) {
      for (const m of msgs) result.errors.push(`${obj.kind} ${obj.metadata?.name}: policy: ${m}`);
    }
  }
  for (const [item, msgs] of typeErrors(items)) {
    for (const m of msgs) item.result.errors.push(`${item.name}: field: ${m}`);
  }
  return results;
}

async function main() {
  const started = performance.now();
  const kustomize = kustomizeCommand();
  let failed = false;

  // The validator's own test: every fixture is broken on purpose and must be rejected. Fixtures
  // and jobs/ are checked together (one TypeScript program for all).
  const fixtures = readdirSync(path.join(here, "fixtures")).sort().map((f) => path.join(here, "fixtures", f));
  const all = await check(kustomize, [...fixtures, ...kustomizations(path.join(repo, "jobs"))]);
  const fixtureResults = all.slice(0, fixtures.length);
  const results = all.slice(fixtures.length);
  for (const r of fixtureResults) {
    const expected = readFileSync(path.join(repo, r.dir, "expect.txt"), "utf8").trim();
    const hit = r.errors.find((e) => e.includes(expected));
    r.rejected = !!hit;
    if (hit) {
      console.log(`k8s: self-test ${path.basename(r.dir)}: rejected as expected: ${hit}`);
      if (verbose) for (const e of r.errors) console.log(`    ${e}`);
    } else {
      failed = true;
      console.log(`k8s: self-test ${path.basename(r.dir)}: NOT rejected with "${expected}"; errors were:`);
      for (const e of r.errors.length ? r.errors : ["(none)"]) console.log(`    ${e}`);
    }
  }

  let objects = 0;
  for (const r of results) {
    objects += r.objects.length;
    const kinds = r.objects.map((o) => o.kind).join(", ");
    if (r.errors.length === 0) {
      console.log(`k8s: ${r.dir}: ${r.objects.length} objects valid${verbose ? ` (${kinds})` : ""}`);
    } else {
      failed = true;
      console.log(`k8s: ${r.dir}: ${r.errors.length} error(s):`);
      for (const e of r.errors) console.log(`    ${e}`);
    }
  }
  const secs = ((performance.now() - started) / 1000).toFixed(1);
  const bad = results.filter((r) => r.errors.length).length;
  const missed = fixtureResults.length - fixtureResults.filter((r) => r.rejected).length;
  console.log(`k8s: ${kustomize.version}; kubernetes-models ${pkgVersion("kubernetes-models")}, ` +
    `typescript ${ts.version}; ${results.length} kustomizations, ${objects} objects, ` +
    `${fixtureResults.length} broken fixtures, ${secs}s`);
  console.log(`k8s: ${results.length - bad + fixtureResults.length - missed} passed, ${bad + missed} failed`);
  process.exit(failed ? 1 : 0);
}

function pkgVersion(name) {
  return JSON.parse(readFileSync(path.join(here, "node_modules", name, "package.json"), "utf8")).version;
}

main().catch((e) => {
  console.error(`k8s: ${e.message}`);
  process.exit(1);
});
