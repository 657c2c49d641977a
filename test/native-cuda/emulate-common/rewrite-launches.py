#!/usr/bin/env python3
"""Rewrites CUDA launches `kernel<<<grid, block, smem, stream>>>(args);` into
`nl_emu::launch(grid, block, smem, stream, [&] { kernel(args); });` so that a .cu file compiles with
g++ against the emulation shim (cuda_runtime.h beside it). Usage: rewrite-launches.py in.cu out.cpp"""
import sys


def balanced(s, i, open_c, close_c):
    """Index just past the bracket that closes s[i] (== open_c)."""
    depth = 0
    for k in range(i, len(s)):
        if s[k] == open_c:
            depth += 1
        elif s[k] == close_c:
            depth -= 1
            if depth == 0:
                return k + 1
    raise ValueError('unbalanced')


def rewrite(src):
    out, pos = [], 0
    while True:
        i = src.find('<<<', pos)
        if i < 0:
            out.append(src[pos:])
            return ''.join(out)
        # the kernel name (with template arguments) ends at i: walk back over identifier chars and <...>
        j = i
        if src[j - 1] == '>':
            depth = 0
            while True:
                j -= 1
                if src[j] == '>':
                    depth += 1
                elif src[j] == '<':
                    depth -= 1
                    if depth == 0:
                        break
        while j > 0 and (src[j - 1].isalnum() or src[j - 1] in '_:'):
            j -= 1
        name = src[j:i]
        k = src.index('>>>', i)
        config = src[i + 3:k]
        a0 = k + 3
        a1 = balanced(src, a0, '(', ')')
        args = src[a0 + 1:a1 - 1]
        out.append(src[pos:j])
        out.append('nl_emu::launch(%s, [&] { %s(%s); })' % (config, name, args))
        pos = a1


if __name__ == '__main__':
    with open(sys.argv[1]) as f:
        text = f.read()
    with open(sys.argv[2], 'w') as f:
        f.write(rewrite(text))
