/**
 * The process supervisor of `npm run serve` (scripts/serve.ts): starts each process in its own
 * process group; when one exits, stops the rest and exits 1 (a service never exits on its own, so
 * the process manager should restart the whole set); `stop(0)` on SIGTERM/SIGINT.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface SupervisedProcess {
  name: string;
  process: ChildProcess;
}

export interface SupervisorOptions {
  /** How long a process gets between SIGTERM and SIGKILL. */
  graceMs: number;
  /** Called once every process is gone (process.exit in serve). */
  exit(code: number): void;
  /** Where the supervisor says what it does (default console). */
  log?: { info(message: string): void; error(message: string): void };
  /** stdio of the processes (default inherit: their output is serve's). */
  stdio?: "inherit" | "pipe" | "ignore";
}

export class Supervisor {
  readonly children: SupervisedProcess[] = [];
  readonly #o: SupervisorOptions;
  readonly #log: NonNullable<SupervisorOptions["log"]>;
  #stopping: Promise<void> | undefined;

  constructor(options: SupervisorOptions) {
    this.#o = options;
    this.#log = options.log ?? { info: (m) => console.log(m), error: (m) => console.error(m) };
  }

  /** Starts `node args...` as `name`. */
  start(name: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): ChildProcess {
    // Own process group, so stopping it also stops whatever it spawns (ponder's workers).
    const child = spawn(process.execPath, args, { cwd, env, stdio: this.#o.stdio ?? "inherit", detached: true });
    this.children.push({ name, process: child });
    this.#log.info(`npm run serve: started ${name} (pid ${child.pid})`);
    child.on("error", (error) => {
      if (this.#stopping) return;
      this.#log.error(`npm run serve: ${name} could not start: ${error.message}; stopping the others`);
      void this.stop(1);
    });
    child.on("exit", (code, signal) => {
      if (this.#stopping) return;
      this.#log.error(`npm run serve: ${name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); stopping the others`);
      void this.stop(1);
    });
    return child;
  }

  /** SIGTERM to every process group, SIGKILL to those still there after the grace period, then exit(code). */
  stop(code: number): Promise<void> {
    this.#stopping ??= (async () => {
      const running = this.children.filter(({ process: p }) => p.exitCode === null && p.signalCode === null && p.pid !== undefined);
      await Promise.all(
        running.map(
          ({ process: child }) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(() => signalGroup(child, "SIGKILL"), this.#o.graceMs);
              child.once("exit", () => {
                clearTimeout(timer);
                resolve();
              });
              signalGroup(child, "SIGTERM");
            }),
        ),
      );
      // Whatever the group leaders left behind in their groups.
      for (const { process: child } of this.children) signalGroup(child, "SIGKILL");
      this.#o.exit(code);
    })();
    return this.#stopping;
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}
