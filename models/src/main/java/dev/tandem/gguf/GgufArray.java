package dev.tandem.gguf;

import java.util.Arrays;

/**
 * A metadata array. {@code values} is a primitive array matching the element type — {@code byte[]}
 * for UINT8/INT8/BOOL, {@code short[]} for UINT16/INT16, {@code int[]} for UINT32/INT32,
 * {@code long[]} for UINT64/INT64, {@code float[]}, {@code double[]}, {@code String[]} — or
 * {@code GgufArray[]} for nested arrays. Unsigned values keep their bits.
 */
public record GgufArray(GgufValueType elementType, Object values) {

    public int length() {
        return java.lang.reflect.Array.getLength(values);
    }

    public String[] strings() {
        return as(String[].class, GgufValueType.STRING);
    }

    public float[] floats() {
        return as(float[].class, GgufValueType.FLOAT32);
    }

    /** INT32 or UINT32 elements. */
    public int[] ints() {
        return as(int[].class, GgufValueType.INT32);
    }

    private <T> T as(Class<T> c, GgufValueType expected) {
        if (!c.isInstance(values)) {
            throw new GgufException("array of " + elementType + " where " + expected + " was expected");
        }
        return c.cast(values);
    }

    @Override
    public String toString() {
        int n = length();
        StringBuilder sb = new StringBuilder("[").append(elementType).append(" × ").append(n);
        if (n > 0) {
            sb.append(": ");
            for (int i = 0; i < Math.min(n, 6); i++) {
                sb.append(i > 0 ? ", " : "").append(element(i));
            }
            sb.append(n > 6 ? ", …" : "");
        }
        return sb.append(']').toString();
    }

    private Object element(int i) {
        Object v = java.lang.reflect.Array.get(values, i);
        return v instanceof String s ? '"' + s + '"' : v;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GgufArray a && a.elementType == elementType && Arrays.deepEquals(new Object[] {values}, new Object[] {a.values});
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(new Object[] {values}) * 31 + elementType.hashCode();
    }
}
