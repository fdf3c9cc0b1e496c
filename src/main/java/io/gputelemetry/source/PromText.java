package io.gputelemetry.source;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A parser of the Prometheus text exposition format (0.0.4) and the sample lines of OpenMetrics
 * text: comments, HELP and TYPE, label escapes, NaN and ±Inf, exponents, optional timestamps,
 * histograms and summaries (their samples, with the family their TYPE line names), colons in metric
 * names, a missing final newline. No maintained Java library parses this format (the Prometheus
 * Java client only writes it), so it is written here, strict like Prometheus' own parser: the first
 * malformed line fails the whole answer with its line number and the reason.
 */
public final class PromText {
  private PromText() {}

  /** One sample line: metric name, labels in order, value, timestamp in ms (null if absent). */
  public record Sample(
      String name, Map<String, String> labels, double value, Long timestampMs, String family) {
    public String label(String key) {
      return labels.get(key);
    }
  }

  /** The samples of one answer, and the type each family was declared with. */
  public record Exposition(List<Sample> samples, Map<String, String> types) {}

  /** A malformed answer: the line and why. */
  public static final class ParseException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int line;

    ParseException(int line, String reason) {
      super("line " + line + ": " + reason);
      this.line = line;
    }

    public int line() {
      return line;
    }
  }

  private static final List<String> TYPES =
      List.of(
          "counter",
          "gauge",
          "histogram",
          "summary",
          "untyped",
          "unknown",
          "info",
          "stateset",
          "gaugehistogram");

  /**
   * Parses a whole answer.
   *
   * @param maxLineChars the longest line accepted; a longer one fails the answer
   */
  public static Exposition parse(CharSequence text, int maxLineChars) throws ParseException {
    List<Sample> samples = new ArrayList<>();
    Map<String, String> types = new HashMap<>();
    Map<String, String> interned = new HashMap<>();
    int n = text.length();
    int start = 0;
    int lineNo = 0;
    while (start < n) {
      lineNo++;
      int end = start;
      while (end < n && text.charAt(end) != '\n') {
        end++;
      }
      int stop = end;
      if (stop > start && text.charAt(stop - 1) == '\r') {
        stop--;
      }
      if (stop - start > maxLineChars) {
        throw new ParseException(lineNo, "longer than " + maxLineChars + " characters");
      }
      new Line(text, start, stop, lineNo, interned).parseInto(samples, types);
      start = end + 1;
    }
    return new Exposition(Collections.unmodifiableList(samples), types);
  }

  /** The family a sample belongs to: its TYPE name, less a histogram or summary suffix. */
  static String familyOf(String name, Map<String, String> types) {
    if (types.containsKey(name)) {
      return name;
    }
    for (String suffix : new String[] {"_bucket", "_sum", "_count", "_total", "_created"}) {
      if (name.endsWith(suffix)) {
        String base = name.substring(0, name.length() - suffix.length());
        if (types.containsKey(base)) {
          return base;
        }
      }
    }
    return name;
  }

  /** A cursor over one line. */
  private static final class Line {
    private final CharSequence s;
    private final int end;
    private final int no;
    private final Map<String, String> interned;
    private int i;

    Line(CharSequence s, int start, int end, int no, Map<String, String> interned) {
      this.s = s;
      this.i = start;
      this.end = end;
      this.no = no;
      this.interned = interned;
    }

    void parseInto(List<Sample> samples, Map<String, String> types) throws ParseException {
      skipBlanks();
      if (i == end) {
        return;
      }
      if (s.charAt(i) == '#') {
        comment(types);
        return;
      }
      String name = metricName();
      Map<String, String> labels = Map.of();
      skipBlanks();
      if (i < end && s.charAt(i) == '{') {
        labels = labels();
        skipBlanks();
      }
      String valueToken = token();
      if (valueToken.isEmpty()) {
        throw fail("no value after " + name);
      }
      double value = number(valueToken);
      skipBlanks();
      Long ts = null;
      if (i < end && s.charAt(i) != '#') {
        String t = token();
        ts = timestamp(t);
        skipBlanks();
      }
      // OpenMetrics exemplars (" # {...} v") follow the value; they carry nothing we keep.
      if (i < end && s.charAt(i) != '#') {
        throw fail("unexpected text after the value: '" + clip(end) + "'");
      }
      samples.add(new Sample(name, labels, value, ts, familyOf(name, types)));
    }

    private void comment(Map<String, String> types) throws ParseException {
      i++;
      skipBlanks();
      String keyword = token();
      if (!keyword.equals("TYPE") && !keyword.equals("HELP")) {
        return; // a plain comment, # EOF, # UNIT
      }
      skipBlanks();
      String name = metricName();
      if (keyword.equals("TYPE")) {
        skipBlanks();
        String type = token().toLowerCase(Locale.ROOT);
        if (!TYPES.contains(type)) {
          throw fail("unknown metric type '" + type + "' for " + name);
        }
        if (types.put(name, type) != null) {
          throw fail("second TYPE line for " + name);
        }
      }
      // HELP text may hold any characters and escapes; it is not kept.
    }

    private String metricName() throws ParseException {
      return name(true, "metric");
    }

    /** A metric name ({@code colons}: ':' allowed) or a label name, interned. */
    private String name(boolean colons, String what) throws ParseException {
      int from = i;
      while (i < end) {
        char c = s.charAt(i);
        boolean ok =
            c == '_'
                || (colons && c == ':')
                || (c >= 'a' && c <= 'z')
                || (c >= 'A' && c <= 'Z')
                || (i > from && c >= '0' && c <= '9');
        if (!ok) {
          break;
        }
        i++;
      }
      if (i == from) {
        throw fail("expected a " + what + " name at '" + clip(Math.min(end, from + 20)) + "'");
      }
      return intern(from, i);
    }

    private Map<String, String> labels() throws ParseException {
      i++; // '{'
      Map<String, String> labels = new LinkedHashMap<>();
      while (true) {
        skipBlanks();
        if (i >= end) {
          throw fail("unterminated label set");
        }
        if (s.charAt(i) == '}') {
          i++;
          return labels;
        }
        String key = name(false, "label");
        skipBlanks();
        if (i >= end || s.charAt(i) != '=') {
          throw fail("expected '=' after label " + key);
        }
        i++;
        skipBlanks();
        if (i >= end || s.charAt(i) != '"') {
          throw fail("expected '\"' to open the value of label " + key);
        }
        i++;
        String value = labelValue(key);
        if (labels.put(key, value) != null) {
          throw fail("label " + key + " given twice");
        }
        skipBlanks();
        if (i < end && s.charAt(i) == ',') {
          i++;
        } else if (i >= end || s.charAt(i) != '}') {
          throw fail("expected ',' or '}' after label " + key);
        }
      }
    }

    private String labelValue(String key) throws ParseException {
      int from = i;
      StringBuilder b = null;
      while (i < end) {
        char c = s.charAt(i);
        if (c == '"') {
          String v = b == null ? intern(from, i) : b.toString();
          i++;
          return v;
        }
        if (c == '\\') {
          if (b == null) {
            b = new StringBuilder().append(s, from, i);
          }
          if (i + 1 >= end) {
            break;
          }
          char e = s.charAt(i + 1);
          switch (e) {
            case '\\' -> b.append('\\');
            case '"' -> b.append('"');
            case 'n' -> b.append('\n');
            default -> throw fail("invalid escape '\\" + e + "' in the value of label " + key);
          }
          i += 2;
          continue;
        }
        if (b != null) {
          b.append(c);
        }
        i++;
      }
      throw fail("unterminated value of label " + key);
    }

    private String token() {
      int from = i;
      while (i < end && s.charAt(i) != ' ' && s.charAt(i) != '\t') {
        i++;
      }
      return s.subSequence(from, i).toString();
    }

    private double number(String t) throws ParseException {
      String bare = t.startsWith("+") || t.startsWith("-") ? t.substring(1) : t;
      String lower = bare.toLowerCase(Locale.ROOT);
      if (lower.equals("nan")) {
        return Double.NaN;
      }
      if (lower.equals("inf") || lower.equals("infinity")) {
        return t.startsWith("-") ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
      }
      // Java would also take "1d", "0x1p3" and "Infinity"-like forms: only decimal forms pass.
      for (int k = 0; k < bare.length(); k++) {
        char c = bare.charAt(k);
        if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
          throw fail("value '" + t + "' is not a number");
        }
      }
      try {
        return Double.parseDouble(t);
      } catch (NumberFormatException e) {
        throw fail("value '" + t + "' is not a number");
      }
    }

    private Long timestamp(String t) throws ParseException {
      try {
        return Long.parseLong(t);
      } catch (NumberFormatException e) {
        throw fail("timestamp '" + t + "' is not an integer of milliseconds");
      }
    }

    private void skipBlanks() {
      while (i < end && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
        i++;
      }
    }

    private String intern(int from, int to) {
      String v = s.subSequence(from, to).toString();
      String prev = interned.putIfAbsent(v, v);
      return prev == null ? v : prev;
    }

    private String clip(int to) {
      int from = i;
      String v = s.subSequence(Math.min(from, to), to).toString();
      return v.length() > 40 ? v.substring(0, 40) + "…" : v;
    }

    private ParseException fail(String reason) {
      return new ParseException(no, reason);
    }
  }
}
