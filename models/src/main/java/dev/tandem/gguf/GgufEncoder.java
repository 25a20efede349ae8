package dev.tandem.gguf;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Little-endian encoding of GGUF header values into a growing byte array, and the checks that a
 * Java value fits the GGUF type it is written as (the same representation {@link GgufFile} reads).
 */
final class GgufEncoder {
    private byte[] buf = new byte[4096];
    private int len;

    byte[] toByteArray() {
        return Arrays.copyOf(buf, len);
    }

    private void ensure(int n) {
        if (len + n > buf.length) {
            long want = Math.max((long) len + n, 2L * buf.length);
            if (want > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("GGUF metadata larger than 2 GiB");
            }
            buf = Arrays.copyOf(buf, (int) want);
        }
    }

    void u8(int v) {
        ensure(1);
        buf[len++] = (byte) v;
    }

    void u16(int v) {
        ensure(2);
        buf[len++] = (byte) v;
        buf[len++] = (byte) (v >>> 8);
    }

    void u32(long v) {
        ensure(4);
        for (int i = 0; i < 4; i++) {
            buf[len++] = (byte) (v >>> (8 * i));
        }
    }

    void i64(long v) {
        ensure(8);
        for (int i = 0; i < 8; i++) {
            buf[len++] = (byte) (v >>> (8 * i));
        }
    }

    void string(String s) {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        i64(b.length);
        ensure(b.length);
        System.arraycopy(b, 0, buf, len, b.length);
        len += b.length;
    }

    /** Writes a value already checked by {@link #checkScalar}. */
    void value(GgufValueType type, Object v) {
        switch (type) {
            case UINT8, INT8 -> u8((Integer) v);
            case UINT16, INT16 -> u16((Integer) v);
            case INT32 -> u32((Integer) v);
            case UINT32 -> u32((Long) v);
            case UINT64, INT64 -> i64((Long) v);
            case FLOAT32 -> u32(Float.floatToRawIntBits((Float) v));
            case FLOAT64 -> i64(Double.doubleToRawLongBits((Double) v));
            case BOOL -> u8((Boolean) v ? 1 : 0);
            case STRING -> string((String) v);
            case ARRAY -> array((GgufArray) v);
        }
    }

    private void array(GgufArray a) {
        u32(a.elementType().id);
        int n = a.length();
        i64(n);
        switch (a.values()) {
            case byte[] b -> {
                ensure(n);
                System.arraycopy(b, 0, buf, len, n);
                len += n;
            }
            case short[] s -> {
                for (short x : s) {
                    u16(x);
                }
            }
            case int[] ints -> {
                for (int x : ints) {
                    u32(x);
                }
            }
            case long[] longs -> {
                for (long x : longs) {
                    i64(x);
                }
            }
            case float[] fs -> {
                for (float x : fs) {
                    u32(Float.floatToRawIntBits(x));
                }
            }
            case double[] ds -> {
                for (double x : ds) {
                    i64(Double.doubleToRawLongBits(x));
                }
            }
            case String[] ss -> {
                for (String x : ss) {
                    string(x);
                }
            }
            case GgufArray[] as -> {
                for (GgufArray x : as) {
                    array(x);
                }
            }
            default -> throw new AssertionError(a.values().getClass());
        }
    }

    /**
     * Checks that {@code value} is the Java representation of {@code type} and in range, and
     * returns it normalized (integers of 32 bits or fewer as Integer, UINT32/UINT64/INT64 as Long).
     */
    static Object checkScalar(String key, GgufValueType type, Object value) {
        return switch (type) {
            case UINT8 -> (int) integer(key, type, value, 0, 0xFF);
            case INT8 -> (int) integer(key, type, value, Byte.MIN_VALUE, Byte.MAX_VALUE);
            case UINT16 -> (int) integer(key, type, value, 0, 0xFFFF);
            case INT16 -> (int) integer(key, type, value, Short.MIN_VALUE, Short.MAX_VALUE);
            case UINT32 -> integer(key, type, value, 0, 0xFFFF_FFFFL);
            case INT32 -> (int) integer(key, type, value, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case UINT64, INT64 -> integer(key, type, value, Long.MIN_VALUE, Long.MAX_VALUE);
            case FLOAT32 -> expect(key, type, value, Float.class);
            case FLOAT64 -> expect(key, type, value, Double.class);
            case BOOL -> expect(key, type, value, Boolean.class);
            case STRING -> expect(key, type, value, String.class);
            case ARRAY -> {
                checkArray(key, expect(key, type, value, GgufArray.class), 1);
                yield value;
            }
        };
    }

    private static long integer(String key, GgufValueType type, Object value, long min, long max) {
        if (!(value instanceof Integer) && !(value instanceof Long)) {
            throw new IllegalArgumentException("metadata " + key + ": " + type + " needs an Integer or Long, not " + value.getClass().getSimpleName());
        }
        long v = ((Number) value).longValue();
        if (v < min || v > max) {
            throw new IllegalArgumentException("metadata " + key + ": " + v + " is out of range for " + type);
        }
        return v;
    }

    private static <T> T expect(String key, GgufValueType type, Object value, Class<T> c) {
        if (!c.isInstance(value)) {
            throw new IllegalArgumentException("metadata " + key + ": " + type + " needs a " + c.getSimpleName() + ", not " + value.getClass().getSimpleName());
        }
        return c.cast(value);
    }

    private static void checkArray(String key, GgufArray a, int depth) {
        if (depth > GgufWriter.MAX_ARRAY_DEPTH) {
            throw new IllegalArgumentException("metadata " + key + ": arrays nested deeper than " + GgufWriter.MAX_ARRAY_DEPTH);
        }
        GgufValueType et = a.elementType();
        if (et == null) {
            throw new IllegalArgumentException("metadata " + key + ": array without an element type");
        }
        Class<?> want = switch (et) {
            case UINT8, INT8, BOOL -> byte[].class;
            case UINT16, INT16 -> short[].class;
            case UINT32, INT32 -> int[].class;
            case UINT64, INT64 -> long[].class;
            case FLOAT32 -> float[].class;
            case FLOAT64 -> double[].class;
            case STRING -> String[].class;
            case ARRAY -> GgufArray[].class;
        };
        if (a.values() == null || a.values().getClass() != want) {
            throw new IllegalArgumentException("metadata " + key + ": an array of " + et + " needs a " + want.getSimpleName()
                    + ", not " + (a.values() == null ? "null" : a.values().getClass().getSimpleName()));
        }
        switch (a.values()) {
            case byte[] b when et == GgufValueType.BOOL -> {
                for (byte x : b) {
                    if (x != 0 && x != 1) {
                        throw new IllegalArgumentException("metadata " + key + ": bool array element " + x + " is neither 0 nor 1");
                    }
                }
            }
            case String[] ss -> {
                for (String s : ss) {
                    if (s == null) {
                        throw new IllegalArgumentException("metadata " + key + ": null string in array");
                    }
                }
            }
            case GgufArray[] as -> {
                for (GgufArray x : as) {
                    if (x == null) {
                        throw new IllegalArgumentException("metadata " + key + ": null nested array");
                    }
                    checkArray(key, x, depth + 1);
                }
            }
            default -> { }
        }
    }
}
