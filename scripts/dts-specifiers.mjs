#!/usr/bin/env node
// Part of `npm run build`: gives every relative module specifier in the emitted declarations (dist/types) the full
// path Node's ESM resolution needs, so that the types resolve under `moduleResolution` node16 and nodenext as well as
// bundler: `from './data'` becomes `from './data/index.js'`, `import("..")` becomes `import("../index.js")`.
//
// The source keeps extensionless imports (Vite resolves them); tsc copies specifiers into .d.ts files as written.
// Each specifier is resolved against the emitted files themselves, and the build fails on one that names no file,
// so a wrong rewrite cannot ship. Specifiers are found with TypeScript's parser, not a regular expression.
//
// Usage: node scripts/dts-specifiers.mjs [dir]   (default dist/types)
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Every `*.d.ts` file under `dir`. */
function declarationFiles(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => join(dir, String(name)))
    .filter((path) => path.endsWith('.d.ts') && statSync(path).isFile());
}

/** The string literals naming modules in a declaration file: imports, re-exports and `import("...")` types. */
function moduleSpecifiers(file, text) {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found = [];
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier);
    } else if (ts.isImportTypeNode(node)) {
      const literal = ts.isLiteralTypeNode(node.argument) ? node.argument.literal : null;
      if (literal && ts.isStringLiteral(literal)) found.push(literal);
    } else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) {
      const expression = node.moduleReference.expression;
      if (ts.isStringLiteral(expression)) found.push(expression);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** `./data` → `./data/index.js` or `./data.js`, whichever declaration file exists; throws when neither does. */
function fullSpecifier(file, specifier) {
  const base = resolve(dirname(file), specifier);
  const stem = specifier.endsWith('.js') ? base.slice(0, -3) : base;
  if (existsSync(`${stem}.d.ts`)) return toRelative(file, `${stem}.js`);
  if (existsSync(join(base, 'index.d.ts'))) return toRelative(file, join(base, 'index.js'));
  throw new Error(
    `dts-specifiers: ${file}: '${specifier}' names no declaration file (tried ${stem}.d.ts and ${join(base, 'index.d.ts')}).`,
  );
}

function toRelative(file, target) {
  const path = relative(dirname(file), target).split('\\').join(posix.sep);
  return path.startsWith('.') ? path : `./${path}`;
}

/** Rewrites the relative specifiers of every declaration file under `dir`; returns how many it changed. */
export function fixDeclarationSpecifiers(dir) {
  let changed = 0;
  for (const file of declarationFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const edits = moduleSpecifiers(file, text)
      .filter(
        (literal) => literal.text.startsWith('./') || literal.text.startsWith('../') || /^\.\.?$/.test(literal.text),
      )
      .map((literal) => ({ literal, next: fullSpecifier(file, literal.text) }))
      .filter(({ literal, next }) => next !== literal.text)
      .sort((a, b) => b.literal.getStart() - a.literal.getStart());
    let out = text;
    for (const { literal, next } of edits) {
      const quote = out[literal.getStart()];
      out = `${out.slice(0, literal.getStart())}${quote}${next}${quote}${out.slice(literal.getEnd())}`;
    }
    if (out !== text) {
      writeFileSync(file, out);
      changed += edits.length;
    }
  }
  return changed;
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) {
  const dir = resolve(process.argv[2] ?? 'dist/types');
  const changed = fixDeclarationSpecifiers(dir);
  console.log(
    `dts-specifiers: ${changed} relative specifiers in ${relative(process.cwd(), dir) || '.'} now end in .js`,
  );
}
