"""Formulas -> browser code: a small compiler from restricted Python to JavaScript.

No formula's arithmetic is written twice. ``compile_formulas`` walks the syntax
tree of each formula function (and of the helpers, format functions and constant
tables it uses) and emits equivalent JavaScript. Anything outside the supported
subset is a ``CompileError`` that names the file, the line and the construct.

The subset keeps both languages doing the same IEEE arithmetic: numbers are
floats on both sides, `/` is true division, and operations whose results differ
between Python and JavaScript (`//`, `%`, `**`) are refused.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import json
import textwrap
from dataclasses import dataclass

from . import formulakit

JS_RESERVED = {
    "arguments", "await", "break", "case", "catch", "class", "const", "continue", "debugger", "default",
    "delete", "do", "else", "enum", "eval", "export", "extends", "false", "finally", "for", "function",
    "if", "implements", "import", "in", "instanceof", "interface", "let", "new", "null", "package",
    "private", "protected", "public", "return", "static", "super", "switch", "this", "throw", "true",
    "try", "typeof", "var", "void", "while", "with", "yield", "Math", "BigInt", "Number", "String",
}
# Python callables a formula may use, with the JavaScript that does the same.
BUILTINS = {
    builtins.abs: "Math.abs",
    builtins.min: "Math.min",
    builtins.max: "Math.max",
    formulakit.floor: "Math.floor",
    formulakit.ceil: "Math.ceil",
    formulakit.sqrt: "Math.sqrt",
}
BINARY = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}
COMPARE = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "===", ast.NotEq: "!=="}
REFUSED = {
    ast.FloorDiv: "'//' rounds differently in JavaScript; use floor(a / b)",
    ast.Mod: "'%' differs between Python and JavaScript for negative numbers",
    ast.Pow: "'**' is not exact in both languages; write x * x",
}
SUPPORTED = ("numbers and strings, + - * /, comparisons, and/or/not, x if c else y, local names, "
             "if/elif/else, while, return {...}, constant tables, calls to abs/min/max/floor/ceil/sqrt/"
             "len/int_text and to other functions of the module")


@dataclass
class CompileError(Exception):
    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class _Program:
    """The functions and constants emitted so far, in dependency order."""

    def __init__(self):
        self.names: dict[int, str] = {}  # id(python object) -> JavaScript name
        self.taken: set[str] = set()
        self.chunks: list[str] = []

    def js_name(self, obj, name: str) -> tuple[str, bool]:
        """The JavaScript name of a global; True when it still has to be emitted."""
        if id(obj) in self.names:
            return self.names[id(obj)], False
        candidate = name + "_" if name in JS_RESERVED else name
        suffix = 2
        while candidate in self.taken:
            candidate = f"{name}_{suffix}"
            suffix += 1
        self.taken.add(candidate)
        self.names[id(obj)] = candidate
        return candidate, True

    def function(self, function) -> str:
        name, new = self.js_name(function, function.__name__)
        if new:
            self.chunks.append(_FunctionCompiler(self, function, name).compile())
        return name

    def constant(self, value, name: str, where: tuple[str, int]) -> str:
        js, new = self.js_name(value, name)
        if new:
            try:
                text = json.dumps(value, allow_nan=False, sort_keys=True)
            except (TypeError, ValueError):
                raise CompileError(*where, f"'{name}' is not a table of numbers and strings") from None
            self.chunks.append(f"const {js} = {text};")
        return js


class _FunctionCompiler:
    def __init__(self, program: _Program, function, js_name: str):
        self.program = program
        self.function = function
        self.js_name = js_name
        self.path = inspect.getsourcefile(function) or "<formulas>"
        source = textwrap.dedent(inspect.getsource(function))
        self.first_line = function.__code__.co_firstlineno - 1
        self.node = ast.parse(source).body[0]
        self.params = [a.arg for a in self.node.args.args]
        self.locals: list[str] = []

    def fail(self, node, message: str):
        raise CompileError(
            self.path, self.first_line + getattr(node, "lineno", 1),
            f"'{self.function.__name__}' cannot run in the browser: {message} (supported: {SUPPORTED})",
        )

    def compile(self) -> str:
        args = self.node.args
        if args.vararg or args.kwarg or args.kwonlyargs or args.defaults or args.posonlyargs:
            self.fail(self.node, "only plain positional parameters are supported")
        body = self.node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
            body = body[1:]  # the docstring
        lines = self.block(body, 1)
        names = ", ".join(self.var(name) for name in self.locals)
        head = [f"function {self.js_name}({', '.join(self.var(p) for p in self.params)}) {{"]
        if names:
            head.append(f"  let {names};")
        return "\n".join(head + lines + ["}"])

    def var(self, name: str) -> str:
        return name + "_" if name in JS_RESERVED else name

    # -- statements --

    def block(self, statements, depth: int) -> list[str]:
        lines = []
        for statement in statements:
            lines += self.statement(statement, depth)
        return lines

    def statement(self, node, depth: int) -> list[str]:
        pad = "  " * depth
        if isinstance(node, ast.Assign):
            if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
                self.fail(node, "assign to one plain name at a time")
            return [f"{pad}{self.assign_target(node.targets[0])} = {self.expr(node.value)};"]
        if isinstance(node, ast.AugAssign):
            if not isinstance(node.target, ast.Name) or type(node.op) not in BINARY:
                self.fail(node, "augmented assignment must be name += -= *= /= value")
            return [f"{pad}{self.assign_target(node.target)} {BINARY[type(node.op)]}= {self.expr(node.value)};"]
        if isinstance(node, ast.Return):
            if node.value is None:
                self.fail(node, "return a value")
            return [f"{pad}return {self.expr(node.value)};"]
        if isinstance(node, ast.If):
            lines = [f"{pad}if ({self.expr(node.test)}) {{"] + self.block(node.body, depth + 1)
            orelse = node.orelse
            while len(orelse) == 1 and isinstance(orelse[0], ast.If):
                lines.append(f"{pad}}} else if ({self.expr(orelse[0].test)}) {{")
                lines += self.block(orelse[0].body, depth + 1)
                orelse = orelse[0].orelse
            if orelse:
                lines.append(f"{pad}}} else {{")
                lines += self.block(orelse, depth + 1)
            return lines + [f"{pad}}}"]
        if isinstance(node, ast.While):
            if node.orelse:
                self.fail(node, "while ... else is not supported")
            return [f"{pad}while ({self.expr(node.test)}) {{"] + self.block(node.body, depth + 1) + [f"{pad}}}"]
        if isinstance(node, ast.Break):
            return [f"{pad}break;"]
        if isinstance(node, ast.Continue):
            return [f"{pad}continue;"]
        if isinstance(node, ast.Pass):
            return []
        self.fail(node, f"'{type(node).__name__}' statements are not supported")

    def assign_target(self, target: ast.Name) -> str:
        name = target.id
        if name not in self.params and name not in self.locals:
            self.locals.append(name)
        return self.var(name)

    # -- expressions --

    def expr(self, node) -> str:
        if isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                return "true" if value else "false"
            if isinstance(value, (int, float, str)):
                return json.dumps(value, allow_nan=False)
            self.fail(node, f"constant {value!r} is not supported")
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.BinOp):
            if type(node.op) in REFUSED:
                self.fail(node, REFUSED[type(node.op)])
            if type(node.op) not in BINARY:
                self.fail(node, f"operator '{type(node.op).__name__}' is not supported")
            return f"({self.expr(node.left)} {BINARY[type(node.op)]} {self.expr(node.right)})"
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return f"(-{self.expr(node.operand)})"
            if isinstance(node.op, ast.UAdd):
                return f"(+{self.expr(node.operand)})"
            if isinstance(node.op, ast.Not):
                return f"(!{self.expr(node.operand)})"
            self.fail(node, "bitwise operators are not supported")
        if isinstance(node, ast.BoolOp):
            joiner = " && " if isinstance(node.op, ast.And) else " || "
            return "(" + joiner.join(self.expr(v) for v in node.values) + ")"
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.IfExp):
            return f"({self.expr(node.test)} ? {self.expr(node.body)} : {self.expr(node.orelse)})"
        if isinstance(node, ast.Dict):
            items = []
            for key, value in zip(node.keys, node.values):
                if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                    self.fail(node, "dictionary keys must be string literals")
                items.append(f"{json.dumps(key.value)}: {self.expr(value)}")
            return "{" + ", ".join(items) + "}"
        if isinstance(node, (ast.List, ast.Tuple)):
            return "[" + ", ".join(self.expr(e) for e in node.elts) + "]"
        if isinstance(node, ast.Subscript):
            return self.subscript(node)
        if isinstance(node, ast.Call):
            return self.call(node)
        self.fail(node, f"'{type(node).__name__}' expressions are not supported")

    def compare(self, node: ast.Compare) -> str:
        parts = []
        left = node.left
        for op, right in zip(node.ops, node.comparators):
            if isinstance(op, (ast.In, ast.NotIn)):
                if not isinstance(right, (ast.Tuple, ast.List)):
                    self.fail(node, "'in' needs a literal tuple or list on its right")
                test = f"{self.expr(right)}.includes({self.expr(left)})"
                parts.append(test if isinstance(op, ast.In) else f"!{test}")
            elif type(op) in COMPARE:
                parts.append(f"({self.expr(left)} {COMPARE[type(op)]} {self.expr(right)})")
            else:
                self.fail(node, "'is' comparisons are not supported; use ==")
            left = right
        return "(" + " && ".join(parts) + ")"

    def subscript(self, node: ast.Subscript) -> str:
        value = self.expr(node.value)
        if isinstance(node.slice, ast.Slice):
            if node.slice.step is not None:
                self.fail(node, "slices with a step are not supported")
            lower = self.expr(node.slice.lower) if node.slice.lower else "0"
            if node.slice.upper is None:
                return f"{value}.slice({lower})"
            return f"{value}.slice({lower}, {self.expr(node.slice.upper)})"
        return f"{value}[{self.expr(node.slice)}]"

    def call(self, node: ast.Call) -> str:
        if node.keywords or not isinstance(node.func, ast.Name):
            self.fail(node, "call functions by name with positional arguments")
        args = [self.expr(a) for a in node.args]
        name = node.func.id
        target = self.global_value(node.func)
        if target is builtins.len:
            if len(args) != 1:
                self.fail(node, "len() takes one argument")
            return f"{args[0]}.length"
        if target is formulakit.int_text:
            return f"BigInt({args[0]}).toString()"
        if target in BUILTINS:
            return f"{BUILTINS[target]}({', '.join(args)})"
        if inspect.isfunction(target):
            if target.__module__ == formulakit.__name__:
                self.fail(node, f"'{name}' has no JavaScript version")
            return f"{self.program.function(target)}({', '.join(args)})"
        self.fail(node, f"'{name}' cannot be called from a formula")

    def name(self, node: ast.Name) -> str:
        if node.id in self.params or node.id in self.locals:
            return self.var(node.id)
        if node.id in ("True", "False"):
            return node.id.lower()
        value = self.global_value(node)
        if isinstance(value, (dict, list, tuple, int, float, str)) and not isinstance(value, bool):
            return self.program.constant(value, node.id, (self.path, self.first_line + node.lineno))
        self.fail(node, f"'{node.id}' is not a local name or a constant table")

    def global_value(self, node: ast.Name):
        scope = self.function.__globals__
        if node.id in scope:
            return scope[node.id]
        if hasattr(builtins, node.id):
            return getattr(builtins, node.id)
        self.fail(node, f"'{node.id}' is not defined")


RUNTIME = """
function run(name, values) {
  const formula = FORMULAS[name];
  const args = formula.inputs.map(([input, isChoice]) => isChoice ? String(values[input]) : Number(values[input]));
  const result = formula.fn(...args);
  const out = {};
  for (const [output, format] of formula.outputs) {
    out[output] = {value: Number(result[output]), text: format(Number(result[output]))};
  }
  return out;
}
"""


def compile_formulas(registry: formulakit.Registry, presets: dict | None = None) -> str:
    """The whole browser script: every formula, what it uses, its formats, and the presets."""
    from . import formats

    program = _Program()
    table = []
    for name in sorted(registry.formulas):
        formula = registry.formulas[name]
        js = program.function(formula.function)
        inputs = ", ".join(f"[{json.dumps(i.name)}, {str(i.is_choice).lower()}]" for i in formula.inputs)
        outputs = []
        for output in formula.outputs:
            formatter = getattr(formats, f"fmt_{output.format}", None)
            if formatter is None:
                raise CompileError(formula.path, formula.line,
                                   f"formula '{name}': output '{output.name}' has unknown format '{output.format}'")
            outputs.append(f"[{json.dumps(output.name)}, {program.function(formatter)}]")
        table.append(f"  {json.dumps(name)}: {{fn: {js}, inputs: [{inputs}], outputs: [{', '.join(outputs)}]}}")
    format_names = sorted(name for name in vars(formats) if name.startswith("fmt_"))
    exposed = ", ".join(f"{json.dumps(n)}: {program.function(getattr(formats, n))}" for n in format_names)
    body = "\n\n".join(program.chunks)
    presets_js = json.dumps(presets or {}, sort_keys=True, ensure_ascii=False).replace("</", "<\\/")
    return (
        "/* Generated by glossary from its formulas modules: edit the Python, not this file. */\n"
        "(function (global) {\n\"use strict\";\n\n"
        f"{body}\n\nconst FORMULAS = {{\n" + ",\n".join(table) + "\n};\n"
        f"const PRESETS = {presets_js};\n"
        f"{RUNTIME}\n"
        f"global.GlossaryFormulas = {{run: run, formulas: FORMULAS, presets: PRESETS, formats: {{{exposed}}}}};\n"
        "})(typeof globalThis !== \"undefined\" ? globalThis : this);\n"
    )
