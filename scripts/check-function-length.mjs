#!/usr/bin/env node
/**
 * Fails when a function in packages/*\/src or apps/*\/src spans more than
 * MAX lines (from its first line to its last, nested functions included):
 * long handlers are split by what they do. Run by `.ci/run` and by
 * `pnpm check:functions`; `--list N` prints the N longest instead.
 */
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const MAX = 120
const root = fileURLToPath(new URL("..", import.meta.url))

const sourceFiles = function*(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* sourceFiles(path)
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) yield path
  }
}

const roots = ["packages", "apps"].flatMap((group) =>
  readdirSync(join(root, group)).map((name) => join(root, group, name, "src")).filter((dir) => {
    try {
      return statSync(dir).isDirectory()
    } catch {
      return false
    }
  })
)

const isFunction = (node) =>
  ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) ||
  ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node)

const nameOf = (node) => {
  if (node.name !== undefined && ts.isIdentifier(node.name)) return node.name.text
  const parent = node.parent
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  return "(anonymous)"
}

const functions = []
for (const dir of roots) {
  for (const file of sourceFiles(dir)) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true)
    const visit = (node) => {
      if (isFunction(node)) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
        functions.push({ where: `${relative(root, file)}:${start + 1}`, name: nameOf(node), lines: end - start + 1 })
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
}

functions.sort((a, b) => b.lines - a.lines)
const listAt = process.argv.indexOf("--list")
if (listAt !== -1) {
  for (const f of functions.slice(0, Number(process.argv[listAt + 1] ?? 20))) console.log(`${f.lines}\t${f.name}\t${f.where}`)
  process.exit(0)
}
const long = functions.filter((f) => f.lines > MAX)
if (long.length > 0) {
  console.error(`functions over ${MAX} lines (split them by what they do):`)
  for (const f of long) console.error(`  ${f.lines} lines  ${f.name}  ${f.where}`)
  process.exit(1)
}
console.log(`${functions.length} functions in ${roots.length} packages, none over ${MAX} lines (longest ${functions[0]?.lines ?? 0})`)
