import { posix } from 'node:path';
import type { Finding, Rule } from './types.js';
import { imagesOf, programNames, scriptProcesses, type RanImage } from './processes.js';

/**
 * Compilers, linkers and build drivers, also as cross/versioned names (`x86_64-linux-gnu-gcc-12`).
 * Info only: compiling is what native addons do; the report needs it to explain the other events.
 */
const TOOLCHAIN = /^(?:[\w.]+-)*(cc|gcc|g\+\+|c\+\+|clang|clang\+\+|cc1|cc1plus|collect2|ld|ld\.bfd|ld\.gold|ld\.lld|make|gmake|cmake|ninja|node-gyp)(?:-\d+(?:\.\d+)*)?$/;
const NODE_GYP_SCRIPT = /^node-gyp(\.js)?$/;

export const nativeBuildRule: Rule = {
  id: 'native-build',
  evaluate({ session }) {
    const findings: Finding[] = [];
    for (const script of session.scripts) {
      const tools = new Set<string>();
      const evidence: string[] = [];
      for (const process of scriptProcesses(session, script)) {
        const found = imagesOf(process).map(toolOf).filter((tool): tool is string => tool !== undefined);
        if (found.length === 0) continue;
        found.forEach((tool) => tools.add(tool));
        evidence.push(process.id);
      }
      if (evidence.length === 0) continue;
      findings.push({
        rule: 'native-build',
        severity: 'info',
        message: `${script.event} script compiles native code (${[...tools].join(', ')})`,
        evidence,
      });
    }
    return findings;
  },
};

/** The compiler, linker or build driver an image is, if it is one. */
export function toolOf(image: RanImage): string | undefined {
  for (const name of programNames(image)) {
    const match = TOOLCHAIN.exec(name);
    if (match?.[1]) return match[1];
  }
  // node-gyp usually runs as `node …/node-gyp/bin/node-gyp.js rebuild`.
  const script = image.argv[1];
  if (script !== undefined && NODE_GYP_SCRIPT.test(posix.basename(script))) return 'node-gyp';
  return undefined;
}
