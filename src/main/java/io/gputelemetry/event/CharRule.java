package io.gputelemetry.event;

/**
 * A schema pattern reduced to what a plain check needs: which characters may come first, which may
 * follow, and how many. Only patterns of the shapes {@code ^[class]{m,n}$} and {@code
 * ^[first][class]{m,n}$} (quantifiers {@code {n}}, {@code {m,n}}, {@code *}, {@code +}, {@code ?}
 * or none) are understood, with classes of ASCII characters (literal or {@code \xHH}) and ranges,
 * or the negation of such a class ({@code [^\x00-\x1f]}: any character but those, non-ASCII
 * included); {@link #parse} returns null for anything else.
 */
final class CharRule {
  /** No pattern: any characters, any length. */
  static final CharRule ANY = new CharRule(null, null, 0, Integer.MAX_VALUE);

  /** Index of the "any non-ASCII character" entry of a class. */
  private static final int NON_ASCII = 128;

  // Per class: allowed[c] for ASCII c, allowed[NON_ASCII] for every other character.
  private final boolean[] first;
  private final boolean[] rest;
  private final int minLength;
  private final int maxLength;

  private CharRule(boolean[] first, boolean[] rest, int minLength, int maxLength) {
    this.first = first;
    this.rest = rest;
    this.minLength = minLength;
    this.maxLength = maxLength;
  }

  int minLength() {
    return minLength;
  }

  int maxLength() {
    return maxLength;
  }

  boolean accepts(String s) {
    if (first == null) {
      return true;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean[] allowed = i == 0 ? first : rest;
      if (!allowed[c < NON_ASCII ? c : NON_ASCII]) {
        return false;
      }
    }
    return true;
  }

  /** The rule of a pattern, or null when its shape is not one this class understands. */
  static CharRule parse(String pattern) {
    if (!pattern.startsWith("^") || !pattern.endsWith("$") || pattern.endsWith("\\$")) {
      return null;
    }
    Cursor c = new Cursor(pattern.substring(1, pattern.length() - 1));
    boolean[] a = c.charClass();
    int[] qa = a == null ? null : c.quantifier();
    if (qa == null) {
      return null;
    }
    if (c.done()) {
      return new CharRule(a, a, qa[0], qa[1]);
    }
    boolean[] b = c.charClass();
    int[] qb = b == null ? null : c.quantifier();
    if (qb == null || !c.done() || qa[0] != 1 || qa[1] != 1) {
      return null;
    }
    int max = qb[1] == Integer.MAX_VALUE ? Integer.MAX_VALUE : 1 + qb[1];
    return new CharRule(a, b, 1 + qb[0], max);
  }

  private static final class Cursor {
    private final String s;
    private int i;

    Cursor(String s) {
      this.s = s;
    }

    boolean done() {
      return i == s.length();
    }

    /** {@code [...]} of ASCII characters and ranges, possibly negated, or null. */
    boolean[] charClass() {
      if (done() || s.charAt(i) != '[') {
        return null;
      }
      i++;
      boolean negated = !done() && s.charAt(i) == '^';
      if (negated) {
        i++;
      }
      boolean[] set = new boolean[NON_ASCII + 1];
      while (!done() && s.charAt(i) != ']') {
        int from = literal();
        if (from < 0) {
          return null;
        }
        int to = from;
        if (i + 1 < s.length() && s.charAt(i) == '-' && s.charAt(i + 1) != ']') {
          i++;
          to = literal();
          if (to < from) {
            return null;
          }
        }
        for (int c = from; c <= to; c++) {
          set[c] = true;
        }
      }
      if (done()) {
        return null;
      }
      i++;
      if (negated) {
        for (int c = 0; c < set.length; c++) {
          set[c] = !set[c];
        }
      }
      return set;
    }

    /** One ASCII character of a class, escaped or not; -1 for anything else. */
    private int literal() {
      char c = s.charAt(i++);
      if (c == '\\') {
        if (done()) {
          return -1;
        }
        c = s.charAt(i++);
        if (c == 'x' && i + 2 <= s.length()) {
          try {
            int code = Integer.parseInt(s.substring(i, i + 2), 16);
            i += 2;
            return code < 128 ? code : -1;
          } catch (NumberFormatException e) {
            return -1;
          }
        }
        if (Character.isLetterOrDigit(c)) {
          return -1; // \d, \w, \s, \p...: classes of their own, not understood here
        }
      } else if (c == '[') {
        return -1;
      }
      return c < 128 ? c : -1;
    }

    /** {min, max} of the quantifier that follows (none: exactly one), or null. */
    int[] quantifier() {
      if (done()) {
        return new int[] {1, 1};
      }
      char c = s.charAt(i);
      switch (c) {
        case '*' -> {
          i++;
          return new int[] {0, Integer.MAX_VALUE};
        }
        case '+' -> {
          i++;
          return new int[] {1, Integer.MAX_VALUE};
        }
        case '?' -> {
          i++;
          return new int[] {0, 1};
        }
        case '{' -> {
          int close = s.indexOf('}', i);
          if (close < 0) {
            return null;
          }
          String[] parts = s.substring(i + 1, close).split(",", -1);
          i = close + 1;
          try {
            int min = Integer.parseInt(parts[0]);
            int max =
                parts.length == 1
                    ? min
                    : parts[1].isEmpty() ? Integer.MAX_VALUE : Integer.parseInt(parts[1]);
            return parts.length <= 2 && min <= max ? new int[] {min, max} : null;
          } catch (NumberFormatException e) {
            return null;
          }
        }
        default -> {
          return new int[] {1, 1};
        }
      }
    }
  }
}
