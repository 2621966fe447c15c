// bullmq_delayed.js - the peer for bench_timers.py: BullMQ's delayed jobs on the same kind of
// private Redis, the same load (N jobs due uniformly over S seconds, two workers), the same
// figure (how late each job started). Run by scripts/bench_timers.py when node and the bullmq
// package are installed (it installs them under build/bench/node when npm is reachable).
// Usage: node bullmq_delayed.js REDIS_PORT COUNT SPREAD_S
const { Queue, Worker } = require('bullmq');

const [port, count, spreadS] = process.argv.slice(2).map(Number);
const connection = { host: '127.0.0.1', port };

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.round(p / 100 * (s.length - 1)))];
}

(async () => {
  const queue = new Queue('bench', { connection });
  const late = [];
  let done = 0;
  const finished = new Promise((resolve) => {
    const onJob = async (job) => {
      late.push(Date.now() - job.data.due);
      if (++done === count) resolve();
    };
    // Two workers, as the daemons are two.
    for (let i = 0; i < 2; i++)
      new Worker('bench', onJob, { connection, concurrency: 50 });
  });
  const start = Date.now() + Math.max(3000, Math.floor(count / 8));   // adding must end first
  const step = spreadS * 1000 / count;
  for (let i = 0; i < count; i += 1000) {
    const jobs = [];
    for (let k = i; k < Math.min(count, i + 1000); k++) {
      const due = Math.floor(start + k * step);
      jobs.push({ name: 'j', data: { due }, opts: { delay: Math.max(0, due - Date.now()), removeOnComplete: true } });
    }
    await queue.addBulk(jobs);
  }
  await finished;
  console.log(JSON.stringify({ p50: pct(late, 50), p99: pct(late, 99), p999: pct(late, 99.9),
                               rate: count / ((Date.now() - start) / 1000) }));
  process.exit(0);
})().catch((e) => { console.error(e); process.exit(1); });
