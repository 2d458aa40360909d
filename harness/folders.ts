// The one owner of every folder a task writes: a training run, a score folder, a demo's output.
//
// A task claims its folder before any work, from options it has already validated:
// - a lock: `.NAME.lock` beside the folder, held with flock(2). The kernel releases it when the
//   process ends however it ends, so a killed holder never leaves it stuck; a second writer gets an
//   error naming the holder (pid, host, task, start time).
// - a folder that holds files the task did not make is refused unless `force` is given (resuming a
//   run aside).
// - staged outputs (score, demo, experiment) are written into `.NAME.staging` beside the folder and
//   renamed into place when complete, so a killed task leaves the folder as it was, never a mix of
//   old and new files. An old folder being replaced is first renamed to `.NAME.old` and removed after;
//   the next owner finishes or undoes a swap that a kill cut short.
// - a run's state is explicit in RUN/state.json: running, interrupted at step N, failed (with the
//   error), or complete. A "running" run whose lock nobody holds was killed (SIGKILL, power loss);
//   readRunState reports it as interrupted at its last checkpoint.

import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../core/io/safetensors.ts";

export const STATE_FILE = "state.json";

/** What a folder's state file says; `step` is the training step a checkpoint holds. */
export interface RunState {
  task: string;
  state: "running" | "interrupted" | "failed" | "complete";
  /** Steps done (training), when the task counts steps. */
  step?: number;
  /** Steps the run was asked for in total (training), when known. */
  totalSteps?: number;
  /** Why it is not complete: the error of a failed run, how an interrupted one stopped. */
  message?: string;
  pid: number;
  host: string;
  started: string;
  updated: string;
}

/** This machine's name, for lock holders and states (read from files: no system-info permission). */
function hostname(): string {
  for (const path of ["/proc/sys/kernel/hostname", "/etc/hostname"]) {
    try {
      const name = Deno.readTextFileSync(path).trim();
      if (name) return name;
    } catch {
      // the next source
    }
  }
  return "this machine";
}

// ---- locks --------------------------------------------------------------------------------------

interface LockHolder {
  pid: number;
  host: string;
  task: string;
  started: string;
}

/** An exclusive lock on a folder path, released by close() or by the end of the process. */
export class FolderLock {
  private constructor(readonly path: string, private file: Deno.FsFile | null) {}

  /** The lock file of a folder: `.NAME.lock` beside it. */
  static pathOf(folder: string): string {
    return join(dirname(folder), `.${basename(folder)}.lock`);
  }

  /** Takes the lock of `folder` or throws an error that names its holder. */
  static async acquire(folder: string, task: string): Promise<FolderLock> {
    const path = FolderLock.pathOf(folder);
    await Deno.mkdir(dirname(path), { recursive: true });
    for (let attempt = 0; attempt < 10; attempt++) {
      const file = await Deno.open(path, { read: true, write: true, create: true });
      if (!(await file.tryLock(true))) {
        file.close();
        throw new Error(
          `${folder} is in use by ${await describeHolder(path)}; wait for it to end, or stop it`,
        );
      }
      // A holder that released the lock may have removed the file between our open and our lock; then
      // we locked a file nobody else can see, and must lock the one at the path instead.
      const [mine, current] = [await file.stat(), await Deno.stat(path).catch(() => null)];
      if (!current || current.ino !== mine.ino || current.dev !== mine.dev) {
        file.close();
        continue;
      }
      const holder: LockHolder = { pid: Deno.pid, host: hostname(), task, started: new Date().toISOString() };
      await file.truncate(0);
      await file.write(new TextEncoder().encode(JSON.stringify(holder) + "\n"));
      return new FolderLock(path, file);
    }
    throw new Error(`${path}: could not take the lock (it kept being replaced)`);
  }

  /** Whether some process holds the lock of `folder` now. */
  static async isHeld(folder: string): Promise<boolean> {
    const path = FolderLock.pathOf(folder);
    let file: Deno.FsFile;
    try {
      file = await Deno.open(path, { read: true });
    } catch {
      return false;
    }
    try {
      const free = await file.tryLock(true);
      if (free) await file.unlock();
      return !free;
    } finally {
      file.close();
    }
  }

  /** Removes the lock file, then releases the lock. */
  async release(): Promise<void> {
    if (!this.file) return;
    await Deno.remove(this.path).catch(() => {});
    this.file.close();
    this.file = null;
  }
}

async function describeHolder(lockPath: string): Promise<string> {
  try {
    const h = JSON.parse(await Deno.readTextFile(lockPath)) as LockHolder;
    return `another ${h.task} (process ${h.pid} on ${h.host}, since ${h.started})`;
  } catch {
    return "another process";
  }
}

// ---- state files --------------------------------------------------------------------------------

/** Writes a folder's state file (atomically), keeping the start time of the task. */
export async function writeRunState(
  dir: string,
  task: string,
  state: RunState["state"],
  detail: { step?: number; totalSteps?: number; message?: string } = {},
): Promise<void> {
  const previous = await readStateFile(dir).catch(() => null);
  const now = new Date().toISOString();
  const s: RunState = {
    task,
    state,
    ...detail,
    pid: Deno.pid,
    host: hostname(),
    started: previous?.state === "running" && previous.pid === Deno.pid ? previous.started : now,
    updated: now,
  };
  await writeFileAtomic(join(dir, STATE_FILE), new TextEncoder().encode(JSON.stringify(s, null, 2) + "\n"));
}

async function readStateFile(dir: string): Promise<RunState | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, STATE_FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`${join(dir, STATE_FILE)}: cannot read (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text) as RunState;
  } catch {
    throw new Error(`${join(dir, STATE_FILE)}: not valid JSON; the folder's state is unknown`);
  }
}

/**
 * Where a folder's task stands. A "running" state whose folder lock is free means the process was
 * killed: it is reported as interrupted. Folders written before state files existed (no state.json)
 * are `null`.
 */
export async function readRunState(dir: string): Promise<RunState | null> {
  const s = await readStateFile(dir);
  if (s?.state === "running" && !(await FolderLock.isHeld(dir))) {
    return {
      ...s,
      state: "interrupted",
      message: `process ${s.pid} on ${s.host} ended without recording its state (killed?)`,
    };
  }
  return s;
}

/** "complete", "interrupted at step 120 of 480 (why)", "failed at step 3: error", "running (process …)". */
export function describeRunState(s: RunState): string {
  const at = s.step === undefined ? "" : ` at step ${s.step}${s.totalSteps ? ` of ${s.totalSteps}` : ""}`;
  switch (s.state) {
    case "complete":
      return "complete";
    case "running":
      return `running${at} (process ${s.pid} on ${s.host}, since ${s.started})`;
    case "interrupted":
      return `interrupted${at}${s.message ? ` (${s.message})` : ""}`;
    case "failed":
      return `failed${at}${s.message ? `: ${s.message}` : ""}`;
  }
}

// ---- owned folders ------------------------------------------------------------------------------

export interface ClaimOptions {
  /** The task, for the lock and the state file: "train", "score", "demo", … */
  task: string;
  /** Replace a folder that holds files (a finished run, someone's files). */
  force?: boolean;
  /** Write into a staging folder renamed into place by commit() (false: write into the folder itself). */
  staged: boolean;
  /** Continue in an existing folder of this task (a training run's --resume); never with `staged`. */
  resume?: boolean;
  /** How the refusal tells the user to continue instead of replacing, e.g. "--resume RUN". */
  continueHint?: string;
}

/** The entries of a folder, [] when it does not exist; throws when the path is a file. */
async function entries(path: string): Promise<string[]> {
  try {
    const names: string[] = [];
    for await (const e of Deno.readDir(path)) names.push(e.name);
    return names.sort();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    if (e instanceof Deno.errors.NotADirectory || (e as Error).message.includes("Not a directory")) {
      throw new Error(`${path} is a file; expected a folder (or a path that does not exist yet)`);
    }
    throw e;
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.lstat(path).then(() => true, () => false);
}

/**
 * A folder a task owns: locked for the task's lifetime; `dir` is where to write (the staging folder of
 * a staged output). Claim it with OwnedFolder.claim before any work.
 */
export class OwnedFolder {
  private ended = false;

  private constructor(
    readonly path: string,
    readonly dir: string,
    private readonly lock: FolderLock,
    private readonly o: ClaimOptions,
  ) {}

  static stagingOf(path: string): string {
    return join(dirname(path), `.${basename(path)}.staging`);
  }
  static oldOf(path: string): string {
    return join(dirname(path), `.${basename(path)}.old`);
  }

  static async claim(path: string, o: ClaimOptions): Promise<OwnedFolder> {
    path = path.replace(/\/+$/, "") || "/";
    if (o.staged && o.resume) throw new Error("a staged folder cannot be resumed");
    await entries(path); // a file in the way fails here, before the lock is made
    const lock = await FolderLock.acquire(path, o.task);
    try {
      await OwnedFolder.recover(path);
      const held = await entries(path);
      if (o.resume) {
        if (held.length === 0) {
          throw new Error(`${path}: nothing to resume (the folder is empty or missing)`);
        }
      } else if (held.length > 0 && !o.force) {
        const state = await readRunState(path).catch(() => null);
        const what = state
          ? `a ${describeRunState(state)} ${state.task}`
          : `files (${held.slice(0, 3).join(", ")}${held.length > 3 ? ", …" : ""})`;
        const hint = o.continueHint && state && state.state !== "complete"
          ? `continue it with ${o.continueHint}, `
          : "";
        throw new Error(
          `${path} already holds ${what}; ${hint}choose another folder, or pass --force to replace it`,
        );
      }
      let dir = path;
      if (o.staged) {
        dir = OwnedFolder.stagingOf(path);
        await Deno.mkdir(dir, { recursive: true });
        await writeRunState(dir, o.task, "running");
      } else if (!o.resume) {
        if (held.length > 0) await OwnedFolder.swapIn(path, null); // --force: the old folder goes
        await Deno.mkdir(path, { recursive: true });
      }
      return new OwnedFolder(path, dir, lock, o);
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  /**
   * Cleans up after an owner that was killed: a staging folder is dropped (its work was not finished);
   * a swap cut short between its two renames is undone (the old folder is put back).
   */
  private static async recover(path: string): Promise<void> {
    const old = OwnedFolder.oldOf(path), staging = OwnedFolder.stagingOf(path);
    if (await exists(old)) {
      if (await exists(path)) await Deno.remove(old, { recursive: true });
      else await Deno.rename(old, path);
    }
    if (await exists(staging)) await Deno.remove(staging, { recursive: true });
  }

  /** Puts `from` (or nothing) in the place of `path`: the old folder is renamed aside, then removed. */
  private static async swapIn(path: string, from: string | null): Promise<void> {
    const old = OwnedFolder.oldOf(path);
    const had = await exists(path);
    if (had) await Deno.rename(path, old);
    if (from) await Deno.rename(from, path);
    if (had) await Deno.remove(old, { recursive: true });
  }

  /** Records the task's state in the folder being written. */
  record(state: RunState["state"], detail: { step?: number; totalSteps?: number; message?: string } = {}) {
    return writeRunState(this.dir, this.o.task, state, detail);
  }

  /** Marks the work complete; a staged folder is renamed into place. Then releases the lock. */
  async commit(): Promise<void> {
    if (this.ended) throw new Error(`${this.path}: already committed or released`);
    await this.record("complete");
    if (this.o.staged) await OwnedFolder.swapIn(this.path, this.dir);
    this.ended = true;
    await this.lock.release();
  }

  /**
   * Releases the lock without completing: a staged folder's work is dropped (the folder stays as it
   * was); a run folder keeps what it has, its state recorded by the caller.
   */
  async release(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    if (this.o.staged) await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    await this.lock.release();
  }
}

/**
 * Requires a run folder to be complete before it is used (scored, given an encoder): an interrupted,
 * failed or running one is refused, unless `allowIncomplete` (a flag of that name exists), and then a
 * notice says which step is used. Returns the state; null for a folder older than state files.
 */
export async function requireComplete(
  dir: string,
  o: { finish: string; allowIncomplete?: boolean },
): Promise<RunState | null> {
  const s = await readRunState(dir);
  if (!s || s.state === "complete") return s;
  const where = s.step === undefined ? "its last checkpoint" : `the checkpoint of step ${s.step}`;
  if (!o.allowIncomplete) {
    throw new Error(
      `${dir} is ${describeRunState(s)}, not complete; finish it first (${o.finish})` +
        (o.allowIncomplete === undefined ? "" : `, or pass --allow-incomplete to use ${where}`),
    );
  }
  console.error(`notice: ${dir} is ${describeRunState(s)}; using ${where} (--allow-incomplete)`);
  return s;
}
