// Runs one command as a child process and measures it from outside: wall time (high-resolution,
// from spawn to exit, taken by this process) and peak RSS as the kernel reports it.
//
// Peak RSS: with GNU time (/usr/bin/time -f %M, the child's ru_maxrss from wait4, in KiB) when it
// is installed; otherwise by polling /proc/<pid>/status for VmHWM every few milliseconds, which
// can miss a peak reached in the last few milliseconds before exit (reported as the method used).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

const GNU_TIME = '/usr/bin/time';
// peak RSS in KiB, user and system CPU seconds
const FORMAT = '%M %U %S';
const REPORT = /^(\d+) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)\s*$/;
let timeWorks;

export function rssMethod() {
  if (timeWorks === undefined) {
    timeWorks = false;
    if (existsSync(GNU_TIME)) {
      try {
        // GNU time, not a BSD or busybox one: -f and -o must work
        const probe = spawnSync(GNU_TIME, ['-f', FORMAT, 'true'], { encoding: 'utf8' });
        timeWorks = probe.status === 0 && REPORT.test(probe.stderr.trim().split('\n').pop() ?? '');
      } catch {
        timeWorks = false;
      }
    }
  }
  return timeWorks ? 'gnu-time %M (wait4 ru_maxrss)' : '/proc VmHWM polling (CPU time not measured)';
}

/**
 * Runs cmd with args. Options: stdinFile (fed to stdin), cwd, env, scratch (a folder for the
 * time report). Resolves { wallMs, peakRssKb, code, stdout, stderr }; never rejects on a non-zero
 * exit (the caller decides). cpuMs is user + system CPU time (NaN without GNU time): on a shared
 * machine it moves less than wall time, and above wall time it shows work on more than one core.
 */
export function measure(cmd, args, { stdinFile = null, cwd, env, scratch }) {
  const useTime = rssMethod().startsWith('gnu');
  const report = join(scratch, `time-${process.pid}-${Math.random().toString(36).slice(2)}.txt`);
  const argv = useTime ? [GNU_TIME, ['-f', FORMAT, '-o', report, cmd, ...args]] : [cmd, args];
  const stdin = stdinFile === null ? 'ignore' : openSync(stdinFile, 'r');
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(argv[0], argv[1], { stdio: [stdin, 'pipe', 'pipe'], cwd, env });
    const out = [];
    const err = [];
    child.stdout.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    let polledKb = 0;
    let timer = null;
    if (!useTime) {
      const poll = () => {
        try {
          const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          if (m) polledKb = Math.max(polledKb, Number(m[1]));
        } catch {
          // exited
        }
      };
      timer = setInterval(poll, 5);
    }
    child.on('error', (e) => {
      if (timer) clearInterval(timer);
      if (typeof stdin === 'number') closeSync(stdin);
      reject(e);
    });
    child.on('close', (code, signal) => {
      const wallMs = performance.now() - started;
      if (timer) clearInterval(timer);
      if (typeof stdin === 'number') closeSync(stdin);
      let peakRssKb = polledKb;
      let cpuMs = NaN;
      if (useTime) {
        peakRssKb = NaN;
        try {
          // the last line; GNU time writes "Command exited with non-zero status N" before it on failure
          const m = REPORT.exec(readFileSync(report, 'utf8').trim().split('\n').pop() ?? '');
          if (m) {
            peakRssKb = Number(m[1]);
            cpuMs = (Number(m[2]) + Number(m[3])) * 1000;
          }
        } catch {
          // no report: the figures stay NaN
        }
        rmSync(report, { force: true });
      }
      resolve({ wallMs, peakRssKb, cpuMs, code: code ?? (signal ? 128 : -1), signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}
