package dev.tandem.model;

import java.nio.charset.StandardCharsets;

/**
 * The deterministic random numbers of {@link ModelMaker}: SplitMix64 for bits and Box–Muller over
 * {@link StrictMath} for normals, so a seed gives the same floats on every JVM and platform.
 * Each tensor draws from its own stream, seeded from the model seed and the tensor's name.
 */
final class ModelMakerRandom {
    private long state;
    private double spare;
    private boolean hasSpare;

    ModelMakerRandom(long seed) {
        this.state = seed;
    }

    /** The stream of one tensor: independent of the order tensors are written in. */
    static ModelMakerRandom forTensor(long modelSeed, String tensorName) {
        long h = 0xcbf29ce484222325L; // FNV-1a over the name's UTF-8 bytes
        for (byte b : tensorName.getBytes(StandardCharsets.UTF_8)) {
            h = (h ^ (b & 0xFF)) * 0x100000001b3L;
        }
        return new ModelMakerRandom(mix(modelSeed ^ mix(h)));
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
        z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
        return z ^ (z >>> 31);
    }

    long nextLong() {
        state += 0x9e3779b97f4a7c15L;
        return mix(state);
    }

    /** Uniform in (0, 1]: never 0, so its logarithm is finite. */
    double nextUnit() {
        return ((nextLong() >>> 11) + 1) * 0x1.0p-53;
    }

    /** Standard normal. */
    double nextGaussian() {
        if (hasSpare) {
            hasSpare = false;
            return spare;
        }
        double r = StrictMath.sqrt(-2 * StrictMath.log(nextUnit()));
        double theta = 2 * StrictMath.PI * nextUnit();
        spare = r * StrictMath.sin(theta);
        hasSpare = true;
        return r * StrictMath.cos(theta);
    }
}
