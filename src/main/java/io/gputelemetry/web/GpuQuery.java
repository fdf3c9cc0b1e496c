package io.gputelemetry.web;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One page of the GPU inventory as {@code GET /api/v1/gpus} answers it: filtered by status and a
 * text, sorted by a column (missing values last in either direction, ties by GPU id), each MIG
 * instance right after its GPU (by instance id) when both are in the answer, then cut to {@code
 * limit} rows from {@code offset}; with a summary of the whole inventory read (counts by status,
 * power, mean utilisation, GPUs per served model) so that a page of 100 can head a fleet of 1,000.
 */
final class GpuQuery {
  /** The columns an answer may be sorted by: GPU fields, then fields of the last sample. */
  static final List<String> SORT_KEYS =
      List.of(
          "node",
          "gpu_uuid",
          "gpu_model",
          "model",
          "status",
          "utilization_pct",
          "memory_used_mib",
          "power_w",
          "temperature_c",
          "last_xid",
          "last_seen");

  /** The longest text filter. */
  static final int MAX_TEXT = 128;

  /** A sort column and its direction ({@code -power_w}: descending). */
  record Sort(String key, boolean descending) {
    @Override
    public String toString() {
      return (descending ? "-" : "") + key;
    }
  }

  static QueryParams.Param sortParam() {
    return new QueryParams.Param(
        "sort",
        "gpu_uuid",
        null,
        v -> {
          boolean desc = v.startsWith("-");
          String key = (desc ? v.substring(1) : v).toLowerCase(Locale.ROOT);
          if (!SORT_KEYS.contains(key)) {
            throw new QueryParams.BadParameter(
                "sort",
                "must be one of "
                    + String.join(", ", SORT_KEYS)
                    + ", optionally after - for descending (such as -power_w)");
          }
          return new Sort(key, desc);
        });
  }

  static QueryParams.Param textParam() {
    return new QueryParams.Param(
        "q",
        null,
        null,
        v -> {
          if (v.length() > MAX_TEXT) {
            throw new QueryParams.BadParameter(
                "q", "must be at most " + MAX_TEXT + " characters long");
          }
          return v;
        });
  }

  private GpuQuery() {}

  /** A GPU and the value it is sorted by (null: it has none). */
  private record Keyed(JsonObject gpu, Comparable<Object> key) {}

  /** The answer: {@code gpus} as {@code ApiRoutes} writes each GPU, in the store's order. */
  static JsonObject page(
      List<JsonObject> gpus, String status, String text, Sort sort, int offset, int limit) {
    String q = text == null || text.isEmpty() ? null : text.toLowerCase(Locale.ROOT);
    List<JsonObject> kept = new ArrayList<>();
    java.util.Set<String> keptIds = new java.util.HashSet<>();
    for (JsonObject g : gpus) {
      if ((status == null || status.equals(g.getString("status"))) && matches(g, q)) {
        kept.add(g);
        keptIds.add(g.getString("gpu_uuid"));
      }
    }
    // Each GPU's sort key computed once, beside it.
    Comparator<Keyed> byKey =
        (a, b) -> {
          if (a.key() == null || b.key() == null) {
            return a.key() == b.key() ? 0 : a.key() == null ? 1 : -1;
          }
          return sort.descending() ? b.key().compareTo(a.key()) : a.key().compareTo(b.key());
        };
    List<Keyed> top = new ArrayList<>();
    Map<String, List<JsonObject>> instances = new HashMap<>();
    for (JsonObject g : kept) {
      String parent = g.getJsonObject("last").getString("mig_parent_uuid");
      if (parent != null && keptIds.contains(parent)) {
        instances.computeIfAbsent(parent, p -> new ArrayList<>()).add(g);
      } else {
        top.add(new Keyed(g, key(g, sort.key())));
      }
    }
    top.sort(byKey.thenComparing(k -> k.gpu().getString("gpu_uuid")));
    JsonArray out = new JsonArray();
    int row = 0;
    for (Keyed k : top) {
      JsonObject g = k.gpu();
      List<JsonObject> rows = new ArrayList<>();
      rows.add(g);
      List<JsonObject> mine = instances.get(g.getString("gpu_uuid"));
      if (mine != null) {
        mine.sort(
            Comparator.comparing(
                    (JsonObject i) -> i.getJsonObject("last").getInteger("mig_instance_id"),
                    Comparator.nullsLast(Comparator.naturalOrder()))
                .thenComparing(i -> i.getString("gpu_uuid")));
        rows.addAll(mine);
      }
      for (JsonObject r : rows) {
        if (row >= offset && out.size() < limit) {
          out.add(r);
        }
        row++;
      }
    }
    return new JsonObject()
        .put("total", kept.size())
        .put("offset", offset)
        .put("limit", limit)
        .put("sort", sort.toString())
        .put("q", text)
        .put("status", status)
        .put("summary", summary(gpus))
        .put("gpus", out);
  }

  private static boolean matches(JsonObject g, String q) {
    if (q == null) {
      return true;
    }
    for (String f : new String[] {"node", "gpu_uuid", "gpu_model", "model"}) {
      String v = g.getString(f);
      if (v != null && v.toLowerCase(Locale.ROOT).contains(q)) {
        return true;
      }
    }
    return false;
  }

  @SuppressWarnings("unchecked")
  private static Comparable<Object> key(JsonObject g, String sort) {
    Object v =
        switch (sort) {
          case "node", "gpu_uuid", "gpu_model", "model", "status" -> g.getString(sort);
          case "last_seen" -> Instant.parse(g.getString("last_seen")).toEpochMilli();
          default ->
              g.getJsonObject("last").getValue(sort) instanceof Number n ? n.doubleValue() : null;
        };
    return (Comparable<Object>) v;
  }

  /**
   * The inventory read, whatever the filters: GPUs by status; the power and mean utilisation of the
   * GPUs that are not stale (whole GPUs: a MIG instance's GPU carries its power); per served model,
   * the GPUs and MIG instances that are not stale and serve it.
   */
  static JsonObject summary(List<JsonObject> gpus) {
    Map<String, Integer> byStatus = new LinkedHashMap<>();
    for (String s : List.of("active", "idle", "stale")) {
      byStatus.put(s, 0);
    }
    double power = 0;
    double util = 0;
    int withUtil = 0;
    Map<String, Integer> serving = new TreeMap<>();
    for (JsonObject g : gpus) {
      String status = g.getString("status");
      byStatus.merge(status, 1, Integer::sum);
      if ("stale".equals(status)) {
        continue;
      }
      JsonObject last = g.getJsonObject("last");
      if (g.getString("model") != null) {
        serving.merge(g.getString("model"), 1, Integer::sum);
      }
      if (last.getString("mig_parent_uuid") != null) {
        continue;
      }
      if (last.getValue("power_w") instanceof Number p) {
        power += p.doubleValue();
      }
      if (last.getValue("utilization_pct") instanceof Number u) {
        util += u.doubleValue();
        withUtil++;
      }
    }
    JsonObject out = new JsonObject().put("gpus", gpus.size());
    byStatus.forEach(out::put);
    return out.put("power_w", power)
        .put("mean_utilization_pct", withUtil == 0 ? null : util / withUtil)
        .put("serving", new JsonObject(new LinkedHashMap<>(serving)));
  }
}
