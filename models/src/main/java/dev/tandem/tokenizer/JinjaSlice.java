package dev.tandem.tokenizer;

import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstRightValue;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code base[start:stop:step]} with Python's rules: each part optional, negative indices count from the end, out
 * of range bounds clamp, a negative step walks backwards ({@code xs[::-1]} reverses). Works on lists and strings
 * (indexed by code point, as Python indexes a str); anything else slices to nothing (null).
 */
final class JinjaSlice extends AstRightValue {
    private final AstNode base;
    private final AstNode start; // null when omitted
    private final AstNode stop;  // null when omitted
    private final AstNode step;  // null when omitted

    JinjaSlice(AstNode base, AstNode start, AstNode stop, AstNode step) {
        this.base = base;
        this.start = start;
        this.stop = stop;
        this.step = step;
    }

    @Override
    public Object eval(Bindings bindings, ELContext context) {
        Object seq = base.eval(bindings, context);
        Integer from = index(start, bindings, context);
        Integer to = index(stop, bindings, context);
        Integer by = index(step, bindings, context);
        if (seq instanceof String s) {
            int[] cps = s.codePoints().toArray();
            int[] picked = pick(cps.length, from, to, by);
            StringBuilder out = new StringBuilder(picked.length);
            for (int i : picked) {
                out.appendCodePoint(cps[i]);
            }
            return out.toString();
        }
        if (seq instanceof List<?> list) {
            return slice(list, from, to, by);
        }
        if (seq instanceof Object[] array) {
            return slice(Arrays.asList(array), from, to, by);
        }
        return null;
    }

    private static List<Object> slice(List<?> list, Integer from, Integer to, Integer by) {
        int[] picked = pick(list.size(), from, to, by);
        List<Object> out = new ArrayList<>(picked.length);
        for (int i : picked) {
            out.add(list.get(i));
        }
        return out;
    }

    /** The indices Python's {@code slice(from, to, by).indices(n)} visits. */
    static int[] pick(int n, Integer from, Integer to, Integer by) {
        int s = by == null ? 1 : by;
        if (s == 0) {
            throw new ELException("slice step cannot be zero");
        }
        int lo;
        int hi;
        if (s > 0) {
            lo = from == null ? 0 : clamp(from, n, 0, n);
            hi = to == null ? n : clamp(to, n, 0, n);
        } else {
            lo = from == null ? n - 1 : clamp(from, n, -1, n - 1);
            hi = to == null ? -1 : clamp(to, n, -1, n - 1);
        }
        int count = s > 0 ? Math.max(0, (hi - lo + s - 1) / s) : Math.max(0, (lo - hi - s - 1) / -s);
        int[] out = new int[count];
        for (int k = 0, i = lo; k < count; k++, i += s) {
            out[k] = i;
        }
        return out;
    }

    private static int clamp(int i, int n, int min, int max) {
        if (i < 0) {
            i += n;
        }
        return Math.max(min, Math.min(max, i));
    }

    private static Integer index(AstNode node, Bindings bindings, ELContext context) {
        if (node == null) {
            return null;
        }
        Object v = node.eval(bindings, context);
        if (v == null) {
            return null;
        }
        if (v instanceof Number num) {
            return num.intValue();
        }
        throw new ELException("slice indices must be integers, not " + v);
    }

    @Override
    public void appendStructure(StringBuilder b, Bindings bindings) {
        base.appendStructure(b, bindings);
        b.append('[');
        if (start != null) {
            start.appendStructure(b, bindings);
        }
        b.append(':');
        if (stop != null) {
            stop.appendStructure(b, bindings);
        }
        if (step != null) {
            b.append(':');
            step.appendStructure(b, bindings);
        }
        b.append(']');
    }

    @Override
    public int getCardinality() {
        return 4;
    }

    @Override
    public AstNode getChild(int i) {
        return switch (i) {
            case 0 -> base;
            case 1 -> start;
            case 2 -> stop;
            case 3 -> step;
            default -> null;
        };
    }

    @Override
    public String toString() {
        return "[:]";
    }
}
