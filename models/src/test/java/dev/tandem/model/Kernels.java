package dev.tandem.model;

import dev.tandem.kernels.IntKernels;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The matrix kernels a test runs a model on: {@code F32} (the default, activations stay F32) or
 * {@code Q8} (the integer path, {@code --kernels q8}: activations quantized to 8-bit blocks for every
 * weight format {@link IntKernels#supports}). The switch is process-wide and all tests of a JVM share
 * it, so a test sets it only around its own model run and puts the previous setting back however
 * the run ends: a failing q8 case must not leave the next test on the integer path.
 */
enum Kernels {
    F32, Q8;

    /** {@code body}'s result, computed with the switch set to these kernels. */
    <T> T run(Supplier<T> body) {
        boolean before = IntKernels.enabled();
        IntKernels.setEnabled(this == Q8);
        try {
            return body.get();
        } finally {
            IntKernels.setEnabled(before);
        }
    }

    /** Runs {@code body} with the switch set to these kernels. */
    void run(Runnable body) {
        run(() -> {
            body.run();
            return null;
        });
    }

    /** As {@code --kernels} spells it: "f32" or "q8". */
    String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * How many of the model's matrix products the integer path computes with integer kernels,
     * asked of {@link Matrix} itself with the switch on, so the count follows whatever formats
     * {@link IntKernels#supports} at run time. Zero means {@code Q8} computes exactly what
     * {@code F32} does on this model (the embedding table only has rows looked up, unless tied to the output).
     */
    static int integerMatrices(Model model) {
        Weights w = model.weights();
        List<Matrix> products = new ArrayList<>();
        for (Weights.Layer l : w.layers) {
            products.addAll(List.of(l.wq(), l.wk(), l.wv(), l.wo(), l.gate(), l.up(), l.down()));
        }
        products.add(w.output);
        return Q8.run(() -> (int) products.stream().filter(Matrix::integerPath).count());
    }
}
