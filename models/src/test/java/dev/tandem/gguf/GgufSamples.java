package dev.tandem.gguf;

import dev.tandem.kernels.GgmlType;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

/** Small GGUF files for tests: every metadata value type, tensors of several types and ranks. */
final class GgufSamples {
    private GgufSamples() {}

    /** A writer with one key of every scalar type, arrays of every element type, nested and empty arrays. */
    static GgufWriter allTypes() {
        GgufWriter w = new GgufWriter();
        w.putString("general.architecture", "llama");
        w.putUint32("general.alignment", 32);
        w.putUint8("t.u8", 200);
        w.putInt8("t.i8", -7);
        w.putUint16("t.u16", 60000);
        w.putInt16("t.i16", -30000);
        w.putUint32("t.u32", 4_000_000_000L);
        w.putInt32("t.i32", -2_000_000_000);
        w.putUint64("t.u64", -1L); // 2^64 - 1
        w.putInt64("t.i64", Long.MIN_VALUE);
        w.putFloat32("t.f32", 1.5f);
        w.putFloat32("t.f32nan", Float.NaN);
        w.putFloat32("t.f32neg0", -0.0f);
        w.putFloat64("t.f64", -2.25e300);
        w.putBool("t.true", true);
        w.putBool("t.false", false);
        w.putString("t.str", "héllo ▁world 🙂");
        w.putString("t.empty", "");
        w.putArray("a.u8", new GgufArray(GgufValueType.UINT8, new byte[] {1, 2, (byte) 255}));
        w.putArray("a.i8", new GgufArray(GgufValueType.INT8, new byte[] {-128, 0, 127}));
        w.putArray("a.bool", new GgufArray(GgufValueType.BOOL, new byte[] {0, 1, 1}));
        w.putArray("a.u16", new GgufArray(GgufValueType.UINT16, new short[] {(short) 65535, 1}));
        w.putArray("a.i16", new GgufArray(GgufValueType.INT16, new short[] {-32768, 32767}));
        w.putArray("a.u32", new GgufArray(GgufValueType.UINT32, new int[] {-1, 7}));
        w.putArray("a.i32", new GgufArray(GgufValueType.INT32, new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}));
        w.putArray("a.u64", new GgufArray(GgufValueType.UINT64, new long[] {-1L, 3}));
        w.putArray("a.i64", new GgufArray(GgufValueType.INT64, new long[] {Long.MIN_VALUE, Long.MAX_VALUE}));
        w.putArray("a.f32", new GgufArray(GgufValueType.FLOAT32, new float[] {0.5f, -1e-30f, Float.POSITIVE_INFINITY}));
        w.putArray("a.f64", new GgufArray(GgufValueType.FLOAT64, new double[] {Math.PI, -0.0}));
        w.putArray("a.str", new GgufArray(GgufValueType.STRING, new String[] {"<unk>", "", "▁the", "日本"}));
        w.putArray("a.empty", new GgufArray(GgufValueType.INT32, new int[0]));
        w.putArray("a.nested", new GgufArray(GgufValueType.ARRAY, new GgufArray[] {
                new GgufArray(GgufValueType.INT32, new int[] {1, 2}),
                new GgufArray(GgufValueType.STRING, new String[] {"x"}),
                new GgufArray(GgufValueType.ARRAY, new GgufArray[] {new GgufArray(GgufValueType.FLOAT32, new float[] {9f})})}));
        w.putUint32("t.last", 5);
        return w;
    }

    /** Tensors of several types and ranks; "c" (20 bytes) needs padding. */
    static void addTensors(GgufWriter w) {
        w.addTensor("a", GgmlType.F32, 8, 3);
        w.addTensor("b", GgmlType.Q8_0, 64, 2);
        w.addTensor("c", GgmlType.F32, 5);
        w.addTensor("d", GgmlType.F32, 2, 2, 2, 2);
    }

    /** Deterministic bytes for every tensor of a writer, keyed by name, filled on demand. */
    static final class Bytes implements GgufWriter.TensorFiller {
        final Map<String, byte[]> written = new LinkedHashMap<>();
        private final long seed;

        Bytes(long seed) {
            this.seed = seed;
        }

        @Override
        public void fill(TensorInfo tensor, MemorySegment dst) {
            SplittableRandom r = new SplittableRandom(seed ^ tensor.name().hashCode());
            byte[] b = new byte[(int) tensor.bytes()];
            for (int i = 0; i < b.length; i++) {
                b[i] = (byte) r.nextInt(256);
            }
            MemorySegment.copy(MemorySegment.ofArray(b), 0, dst, 0, b.length);
            written.put(tensor.name(), b);
        }
    }

    /** Writes {@link #allTypes()} with {@link #addTensors} to {@code file}; returns the tensor bytes. */
    static Map<String, byte[]> writeSample(Path file) throws IOException {
        GgufWriter w = allTypes();
        addTensors(w);
        Bytes bytes = new Bytes(42);
        w.write(file, bytes);
        return bytes.written;
    }
}
