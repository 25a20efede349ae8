package dev.tandem.gguf;

import dev.tandem.kernels.GgmlType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * One tensor of a GGUF file. {@code dims[0]} is the innermost (contiguous) dimension, as GGML
 * orders them: a weight matrix of {@code rows × cols} has {@code dims = {cols, rows}}.
 * {@code data} is the read-only mapped view of its bytes.
 */
public record TensorInfo(String name, GgmlType type, long[] dims, long offset, long bytes, MemorySegment data) {

    public long elements() {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        return n;
    }

    /** Size of dimension {@code i}, 1 past the last. */
    public long dim(int i) {
        return i < dims.length ? dims[i] : 1;
    }

    public String shape() {
        return Arrays.toString(dims);
    }
}
