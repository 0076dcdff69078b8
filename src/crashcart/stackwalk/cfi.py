"""Breakpad ``STACK CFI`` postfix expressions and the caller-register computation built on them.

Tokens (whitespace separated, Reverse Polish): integer literals (decimal, optionally signed, or ``0x``
hex), register names, ``.cfa``, ``.ra``, ``.undef``, the binary operators ``+ - * / % @`` (``a b @`` aligns
``a`` down to a multiple of ``b``) and the unary dereference ``^`` (a pointer-sized read from stack memory
only). Arithmetic wraps at the pointer width. Every failure (unknown register, stack underflow, division by
zero, unreadable memory, leftover values, an over-long expression) gives None: the rule is unusable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from crashcart.stackwalk.interfaces import CfiRules

#: Longest expression evaluated (tokens); real rules have fewer than 20.
MAX_TOKENS = 64
#: Deepest evaluation stack.
MAX_DEPTH = 32

ReadWord = Callable[[int], int | None]


def _literal(token: str) -> int | None:
    try:
        return int(token, 0) if token.lower().startswith(("0x", "-0x")) else int(token, 10)
    except ValueError:
        return None


def _binary(op: str, a: int, b: int, mask: int) -> int | None:
    if op == "+":
        return (a + b) & mask
    if op == "-":
        return (a - b) & mask
    if op == "*":
        return (a * b) & mask
    if op in "/%":
        if b == 0:
            return None
        return (a // b if op == "/" else a % b) & mask
    # "@": align down; b must be a power of two.
    if b == 0 or b & (b - 1):
        return None
    return a & ~(b - 1) & mask


def evaluate(expr: str, variables: Mapping[str, int], read_word: ReadWord, pointer_size: int) -> int | None:
    """The value of postfix ``expr`` given register/pseudo-register ``variables``, or None."""
    mask = (1 << (8 * pointer_size)) - 1
    tokens = expr.split()
    if not tokens or len(tokens) > MAX_TOKENS:
        return None
    stack: list[int] = []
    for item in tokens:
        if item in {"+", "-", "*", "/", "%", "@"}:
            if len(stack) < 2:
                return None
            b = stack.pop()
            a = stack.pop()
            value = _binary(item, a, b, mask)
            if value is None:
                return None
            stack.append(value)
        elif item == "^":
            if not stack:
                return None
            word = read_word(stack.pop())
            if word is None:
                return None
            stack.append(word & mask)
        else:
            value = variables.get(item)
            if value is None:
                value = _literal(item)
            if value is None:
                return None
            stack.append(value & mask)
            if len(stack) > MAX_DEPTH:
                return None
    return stack[0] if len(stack) == 1 else None


def run_program(
    program: str, variables: Mapping[str, int], read_word: ReadWord, pointer_size: int
) -> tuple[dict[str, int], set[str]] | None:
    """Run a ``STACK WIN`` program string (postfix with ``=`` assignments, e.g. ``$T0 $ebp = $eip $T0 4 + ^ =``).

    Returns all variables afterwards and the names assigned, or None if any step fails or values are left over.
    """
    mask = (1 << (8 * pointer_size)) - 1
    tokens: list[str] = []
    for raw in program.split():
        # MSVC (LTO) sometimes glues "=" to the next token: "$T0 $ebp 4 + =$eip ...".
        tokens.extend(("=", raw[1:]) if len(raw) > 1 and raw[0] == "=" else (raw,))
    if len(tokens) > MAX_TOKENS * 4:
        return None
    values = dict(variables)
    assigned: set[str] = set()
    stack: list[int | str] = []

    def pop_value() -> int | None:
        if not stack:
            return None
        top = stack.pop()
        if isinstance(top, int):
            return top
        return values.get(top)

    for item in tokens:
        if item in {"+", "-", "*", "/", "%", "@"}:
            b, a = pop_value(), pop_value()
            if a is None or b is None:
                return None
            value = _binary(item, a, b, mask)
            if value is None:
                return None
            stack.append(value)
        elif item == "^":
            address = pop_value()
            word = None if address is None else read_word(address)
            if word is None:
                return None
            stack.append(word & mask)
        elif item == "=":
            value = pop_value()
            if value is None or not stack or not isinstance(stack[-1], str):
                return None
            name = stack.pop()
            assert isinstance(name, str)
            values[name] = value
            assigned.add(name)
        elif item.startswith(("$", ".")):
            stack.append(item)  # resolved when used, so it can also be an assignment target
        else:
            literal = _literal(item)
            if literal is None:
                return None
            stack.append(literal & mask)
        if len(stack) > MAX_DEPTH:
            return None
    return (values, assigned) if not stack else None


def caller_registers(
    rules: CfiRules,
    callee: Mapping[str, int],
    read_word: ReadWord,
    pointer_size: int,
    *,
    prefix: str = "",
) -> dict[str, int] | None:
    """Breakpad's ``CFIFrameInfo::FindCallerRegs``: the caller's registers, with ``.cfa`` and ``.ra``.

    ``callee`` holds the callee's valid registers by bare name (``rsp``); ``prefix`` is how the ``.sym`` file
    spells them (``$`` on x86/amd64). Returns None when ``.cfa`` or ``.ra`` is missing or fails; a failing
    register rule is dropped. The result is keyed by bare register name plus ``.cfa`` and ``.ra``.
    """
    cfa_rule = rules.rules.get(".cfa")
    ra_rule = rules.rules.get(".ra")
    if cfa_rule is None or ra_rule is None:
        return None
    variables = {prefix + name: value for name, value in callee.items()}
    if prefix:
        variables.update(callee)  # rust-minidump accepts either spelling; so do we
    cfa = evaluate(cfa_rule, variables, read_word, pointer_size)
    if cfa is None:
        return None
    variables[".cfa"] = cfa
    ra = evaluate(ra_rule, variables, read_word, pointer_size)
    if ra is None:
        return None
    caller: dict[str, int] = {".cfa": cfa, ".ra": ra}
    for name, expr in rules.rules.items():
        if name in {".cfa", ".ra"}:
            continue
        value = evaluate(expr, variables, read_word, pointer_size)
        if value is not None:
            caller[name.removeprefix("$") if prefix else name] = value
    return caller
