// The bench scripts' command line: one FILE and `--name value` options.
// cliArgs(usage) -> { file, opt(name, default) }; prints `usage` and exits 2 without a file.
export function cliArgs(usage) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
  };
  const file = args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1].startsWith('--')));
  if (!file) {
    process.stderr.write(`usage: ${usage}\n`);
    process.exit(2);
  }
  return { file, opt };
}
