package dev.tandem.model;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SamplingParamsTest {

    private static final SamplingParams OK = SamplingParams.defaults();

    private static SamplingParams with(float temperature, int topK, float topP, float minP, float rep,
                                      float presence, float frequency, int lastN) {
        return new SamplingParams(temperature, topK, topP, minP, rep, presence, frequency, lastN, 7L);
    }

    private static void rejects(SamplingParams p, String name) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, p::validate, p::toString);
        String msg = e.getMessage();
        assertTrue(msg.startsWith(name + " must be "), () -> "message for " + p + " should name " + name + ": " + msg);
        assertFalse(msg.contains("\n"), () -> "message should be one line: " + msg);
    }

    @Test
    void defaultsAndGreedyAreValidAndMeanWhatTheySay() {
        assertSame(OK, OK.validate());
        assertEquals(new SamplingParams(1f, 0, 1f, 0f, 1f, 0f, 0f, 64, 0L), OK);
        assertFalse(OK.penalizes());
        SamplingParams g = SamplingParams.greedy().validate();
        assertEquals(0f, g.temperature());
        assertFalse(g.penalizes());
        assertEquals(42L, OK.withSeed(42L).seed());
        assertEquals(0.5f, OK.withTemperature(0.5f).temperature());
    }

    @Test
    void boundariesThatAreAllowed() {
        with(0f, 0, 1f, 0f, 1f, -2f, 2f, -1).validate();
        with(100f, 1, Float.MIN_VALUE, 1f, 0.001f, 2f, -2f, 0).validate();
        with(1f, Integer.MAX_VALUE, 0.5f, 0.5f, 5f, 0f, 0f, SamplingParams.MAX_PENALTY_LAST_N).validate();
    }

    @Test
    void eachBadValueIsNamed() {
        rejects(with(-0.1f, 0, 1f, 0f, 1f, 0f, 0f, 64), "temperature");
        rejects(with(Float.NaN, 0, 1f, 0f, 1f, 0f, 0f, 64), "temperature");
        rejects(with(Float.POSITIVE_INFINITY, 0, 1f, 0f, 1f, 0f, 0f, 64), "temperature");
        rejects(with(1f, -1, 1f, 0f, 1f, 0f, 0f, 64), "topK");
        rejects(with(1f, 0, 0f, 0f, 1f, 0f, 0f, 64), "topP");
        rejects(with(1f, 0, 1.01f, 0f, 1f, 0f, 0f, 64), "topP");
        rejects(with(1f, 0, Float.NaN, 0f, 1f, 0f, 0f, 64), "topP");
        rejects(with(1f, 0, 1f, -0.01f, 1f, 0f, 0f, 64), "minP");
        rejects(with(1f, 0, 1f, 1.5f, 1f, 0f, 0f, 64), "minP");
        rejects(with(1f, 0, 1f, Float.NaN, 1f, 0f, 0f, 64), "minP");
        rejects(with(1f, 0, 1f, 0f, 0f, 0f, 0f, 64), "repetitionPenalty");
        rejects(with(1f, 0, 1f, 0f, -1f, 0f, 0f, 64), "repetitionPenalty");
        rejects(with(1f, 0, 1f, 0f, Float.POSITIVE_INFINITY, 0f, 0f, 64), "repetitionPenalty");
        rejects(with(1f, 0, 1f, 0f, 1f, 2.5f, 0f, 64), "presencePenalty");
        rejects(with(1f, 0, 1f, 0f, 1f, Float.NaN, 0f, 64), "presencePenalty");
        rejects(with(1f, 0, 1f, 0f, 1f, 0f, -2.01f, 64), "frequencyPenalty");
        rejects(with(1f, 0, 1f, 0f, 1f, 0f, 0f, -2), "penaltyLastN");
        rejects(with(1f, 0, 1f, 0f, 1f, 0f, 0f, SamplingParams.MAX_PENALTY_LAST_N + 1), "penaltyLastN");
    }

    @Test
    void messageShowsTheValueGiven() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> with(1f, 0, 1.5f, 0f, 1f, 0f, 0f, 64).validate());
        assertEquals("topP must be in (0, 1], got 1.5", e.getMessage());
    }

    @Test
    void samplerRefusesInvalidParams() {
        assertThrows(IllegalArgumentException.class, () -> new Sampler(with(-1f, 0, 1f, 0f, 1f, 0f, 0f, 64), 10));
    }

    @Test
    void penalizesOnlyWhenSomePenaltyActsOnANonEmptyWindow() {
        assertTrue(with(1f, 0, 1f, 0f, 1.1f, 0f, 0f, 64).penalizes());
        assertTrue(with(1f, 0, 1f, 0f, 1f, 0.1f, 0f, -1).penalizes());
        assertTrue(with(1f, 0, 1f, 0f, 1f, 0f, -0.1f, 1).penalizes());
        assertFalse(with(1f, 0, 1f, 0f, 1.1f, 0.5f, 0.5f, 0).penalizes());
    }
}
