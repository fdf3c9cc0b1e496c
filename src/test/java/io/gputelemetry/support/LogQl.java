package io.gputelemetry.support;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The log queries of LogQL alert and recording rules, evaluated on log lines as Loki would, for the
 * subset our rules use: a stream selector ({@code =}, {@code !=}, {@code =~}, {@code !~}), the
 * {@code json} parser (all fields, or {@code name="path"} with dotted paths), label filters ({@code
 * =}, {@code !=}, {@code =~}, {@code !~}; regexes match the whole value, as in Loki), and the line
 * filters {@code |=} and {@code |~}. Anything else fails the parse, so a rule that grows beyond
 * this subset cannot pass unchecked. There is no Loki binary on the test machines; this reads the
 * queries from the shipped rule file and runs them on the jar's real output.
 */
public final class LogQl {
  private static final Pattern MATCHER =
      Pattern.compile(
          "\\s*([a-zA-Z_][a-zA-Z0-9_]*)\\s*(=~|!~|!=|=)\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|`[^`]*`)\\s*");
  private static final Pattern RANGE_QUERY =
      Pattern.compile("(?:count_over_time|rate|bytes_over_time|bytes_rate)\\s*\\(");

  private final List<Filter> selector;
  private final List<Stage> stages;

  private LogQl(List<Filter> selector, List<Stage> stages) {
    this.selector = selector;
    this.stages = stages;
  }

  /** A line that passed the query, with its labels (stream labels and extracted ones). */
  public record Match(String line, Map<String, String> labels) {}

  private interface Stage {
    /** The labels after this stage, or null when the line is dropped. */
    Map<String, String> apply(String line, Map<String, String> labels);
  }

  private record Filter(String label, String op, String value) implements Stage {
    boolean test(String actual) {
      String a = actual == null ? "" : actual;
      return switch (op) {
        case "=" -> a.equals(value);
        case "!=" -> !a.equals(value);
        case "=~" -> Pattern.compile(value).matcher(a).matches();
        case "!~" -> !Pattern.compile(value).matcher(a).matches();
        default -> throw new IllegalArgumentException(op);
      };
    }

    @Override
    public Map<String, String> apply(String line, Map<String, String> labels) {
      return test(labels.get(label)) ? labels : null;
    }
  }

  /**
   * The log query of a metric query's range aggregation: {@code count_over_time({...} | ... [5m])}
   * gives {@code {...} | ...}. Fails unless there is exactly one.
   */
  public static LogQl ofMetricQuery(String expr) {
    Matcher m = RANGE_QUERY.matcher(expr);
    if (!m.find()) {
      throw new IllegalArgumentException("no range aggregation over a log query in: " + expr);
    }
    int start = m.end();
    int end = expr.lastIndexOf('[');
    if (end < start) {
      throw new IllegalArgumentException("no range in: " + expr);
    }
    if (m.find()) {
      throw new IllegalArgumentException("more than one log query in: " + expr);
    }
    return parse(expr.substring(start, end));
  }

  /** Parses a log query: a stream selector and its pipeline. */
  public static LogQl parse(String query) {
    String q = query.strip();
    if (!q.startsWith("{")) {
      throw new IllegalArgumentException("a log query starts with a stream selector: " + q);
    }
    int close = q.indexOf('}');
    List<Filter> selector = filters(q.substring(1, close), ",");
    List<Stage> stages = new ArrayList<>();
    for (String stage : splitPipes(q.substring(close + 1))) {
      stages.add(stage(stage.strip()));
    }
    return new LogQl(selector, stages);
  }

  /** Lines of one stream that pass the query. */
  public List<Match> run(Map<String, String> streamLabels, List<String> lines) {
    for (Filter f : selector) {
      if (!f.test(streamLabels.get(f.label()))) {
        return List.of();
      }
    }
    List<Match> out = new ArrayList<>();
    for (String line : lines) {
      Map<String, String> labels = new HashMap<>(streamLabels);
      for (Stage s : stages) {
        labels = s.apply(line, labels);
        if (labels == null) {
          break;
        }
      }
      if (labels != null) {
        out.add(new Match(line, labels));
      }
    }
    return out;
  }

  private static Stage stage(String s) {
    if (s.startsWith("=") || s.startsWith("~")) {
      boolean regex = s.startsWith("~");
      String value = unquote(s.substring(1).strip());
      Pattern p = regex ? Pattern.compile(value) : null;
      return (line, labels) ->
          (regex ? p.matcher(line).find() : line.contains(value)) ? labels : null;
    }
    if (s.equals("json") || s.startsWith("json ")) {
      Map<String, String> paths = new LinkedHashMap<>();
      if (s.length() > 4) {
        for (Filter f : filters(s.substring(4), ",")) {
          if (!f.op().equals("=")) {
            throw new IllegalArgumentException("json takes name=\"path\": " + s);
          }
          paths.put(f.label(), f.value());
        }
      }
      return (line, labels) -> json(line, labels, paths);
    }
    List<Filter> f = filters(s, "\u0000");
    if (f.size() != 1) {
      throw new IllegalArgumentException("unsupported LogQL stage: | " + s);
    }
    return f.get(0);
  }

  private static Map<String, String> json(
      String line, Map<String, String> labels, Map<String, String> paths) {
    Map<String, String> out = new HashMap<>(labels);
    JsonObject o;
    try {
      o = new JsonObject(line);
    } catch (DecodeException | ClassCastException e) {
      out.put("__error__", "JSONParserErr");
      return out;
    }
    if (paths.isEmpty()) {
      o.forEach(e -> out.put(e.getKey(), String.valueOf(e.getValue())));
    } else {
      paths.forEach(
          (name, path) -> {
            Object v = o;
            for (String part : path.split("\\.")) {
              v = v instanceof JsonObject j ? j.getValue(part) : null;
            }
            if (v != null) {
              out.put(name, String.valueOf(v));
            }
          });
    }
    return out;
  }

  private static List<Filter> filters(String text, String separator) {
    List<Filter> out = new ArrayList<>();
    Matcher m = MATCHER.matcher(text);
    int at = 0;
    while (at < text.length()) {
      if (!m.find(at) || m.start() != at) {
        throw new IllegalArgumentException("unsupported matcher at: " + text.substring(at));
      }
      out.add(new Filter(m.group(1), m.group(2), unquote(m.group(3))));
      at = m.end();
      if (at < text.length()) {
        if (!text.startsWith(separator, at)) {
          throw new IllegalArgumentException("unsupported matcher list: " + text);
        }
        at += separator.length();
      }
    }
    return out;
  }

  private static String unquote(String s) {
    if (s.startsWith("`")) {
      return s.substring(1, s.length() - 1);
    }
    if (!s.startsWith("\"") || !s.endsWith("\"")) {
      throw new IllegalArgumentException("expected a quoted string: " + s);
    }
    return s.substring(1, s.length() - 1).replaceAll("\\\\(.)", "$1");
  }

  /** Splits a pipeline at the pipes outside quotes. */
  private static List<String> splitPipes(String pipeline) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    char quote = 0;
    for (int i = 0; i < pipeline.length(); i++) {
      char c = pipeline.charAt(i);
      if (quote != 0) {
        cur.append(c);
        if (c == '\\' && quote == '"' && i + 1 < pipeline.length()) {
          cur.append(pipeline.charAt(++i));
        } else if (c == quote) {
          quote = 0;
        }
      } else if (c == '"' || c == '`') {
        quote = c;
        cur.append(c);
      } else if (c == '|') {
        if (!cur.toString().isBlank()) {
          out.add(cur.toString());
        }
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (!cur.toString().isBlank()) {
      out.add(cur.toString());
    }
    return out;
  }
}
