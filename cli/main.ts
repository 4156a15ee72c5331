/**
 * The `sojourn` command. Each file in cli/commands/ exports `register(program)` and adds one
 * subcommand (or a group), so commands are added without touching this file.
 * Exit codes: 0 success, 1 the command found problems (invalid files, failed tests), 2 bad usage or a crash.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';

export async function main(argv: string[]): Promise<void> {
  const program = new Command('sojourn')
    .description('Customer-journey automation: YAML journeys run as Temporal workflows over MongoDB contacts')
    .showHelpAfterError()
    .exitOverride((err) => {
      process.exit(err.exitCode === 0 ? 0 : 2);
    });
  const dir = path.join(__dirname, 'commands');
  for (const file of fs.readdirSync(dir).filter((f) => /\.ts$/.test(f) && !f.endsWith('.d.ts')).sort()) {
    const mod = (await import(path.join(dir, file))) as { register?: (p: Command) => void };
    if (typeof mod.register === 'function') mod.register(program);
  }
  await program.parseAsync(argv);
}

if (require.main === module) {
  main(process.argv).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(2);
  });
}
