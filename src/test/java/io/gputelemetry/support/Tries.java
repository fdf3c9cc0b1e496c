package io.gputelemetry.support;

/**
 * How many random cases a property test tries: its own count, or at most {@code
 * -Dgputelemetry.tries=N}. Mutation testing sets a small N: it runs each covering test once per
 * mutant, and a mutant is killed (or not) by the first cases or by the hand-written boundary ones.
 */
public final class Tries {
  private Tries() {}

  public static int of(int n) {
    return Math.min(n, Integer.getInteger("gputelemetry.tries", n));
  }
}
