package io.gputelemetry.web;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.MultiMap;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GpuQueryTest {
  /** A GPU as ApiRoutes writes it: status decided, the last sample under last. */
  private static JsonObject gpu(String uuid, String node, String status, Double power) {
    JsonObject last = new JsonObject().put("utilization_pct", 50.0);
    if (power != null) {
      last.put("power_w", power);
    }
    return new JsonObject()
        .put("gpu_uuid", uuid)
        .put("node", node)
        .put("gpu_model", "H100-SXM-80GB")
        .put("model", "llama")
        .put("status", status)
        .put("last_seen", "2026-12-01T10:00:00Z")
        .put("last", last);
  }

  private static JsonObject mig(String uuid, String parent, int instance) {
    JsonObject g = gpu(uuid, "n1", "active", 5.0);
    g.getJsonObject("last").put("mig_parent_uuid", parent).put("mig_instance_id", instance);
    return g;
  }

  private static List<String> ids(JsonObject answer) {
    List<String> out = new ArrayList<>();
    answer.getJsonArray("gpus").forEach(g -> out.add(((JsonObject) g).getString("gpu_uuid")));
    return out;
  }

  private static GpuQuery.Sort sort(String s) {
    return (GpuQuery.Sort) parse(Map.of("sort", s)).value("sort");
  }

  private static QueryParams.Values parse(Map<String, String> query) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    query.forEach(m::add);
    return ApiRoutes.GPUS_PARAMS.parse(m);
  }

  private final List<JsonObject> fleet =
      List.of(
          gpu("GPU-c", "n2", "active", 300.0),
          gpu("GPU-a", "n1", "stale", 100.0),
          gpu("GPU-b", "n1", "idle", null),
          mig("MIG-a2", "GPU-d", 2),
          mig("MIG-a1", "GPU-d", 1),
          gpu("GPU-d", "n3", "active", 200.0));

  @Test
  void sortsByAColumnEitherWayWithMissingValuesLastAndInstancesUnderTheirGpu() {
    assertEquals(
        List.of("GPU-a", "GPU-b", "GPU-c", "GPU-d", "MIG-a1", "MIG-a2"),
        ids(GpuQuery.page(fleet, null, null, sort("gpu_uuid"), 0, 100)));
    // GPU-b has no power: last in both directions. MIG instances (5 W) follow GPU-d.
    assertEquals(
        List.of("GPU-a", "GPU-d", "MIG-a1", "MIG-a2", "GPU-c", "GPU-b"),
        ids(GpuQuery.page(fleet, null, null, sort("power_w"), 0, 100)));
    assertEquals(
        List.of("GPU-c", "GPU-d", "MIG-a1", "MIG-a2", "GPU-a", "GPU-b"),
        ids(GpuQuery.page(fleet, null, null, sort("-power_w"), 0, 100)));
    // Same node: ties by GPU id.
    assertEquals(
        List.of("GPU-a", "GPU-b", "GPU-c", "GPU-d", "MIG-a1", "MIG-a2"),
        ids(GpuQuery.page(fleet, null, null, sort("node"), 0, 100)));
  }

  @Test
  void filtersThenPagesAndTotalCountsWhatTheFiltersKeep() {
    JsonObject p = GpuQuery.page(fleet, null, "n1", sort("gpu_uuid"), 1, 2);
    // n1: GPU-a, GPU-b and both instances (their parent GPU-d on n3 is filtered out, so they
    // stand on their own among the rows).
    assertEquals(4, p.getInteger("total"));
    assertEquals(List.of("GPU-b", "MIG-a1"), ids(p));
    assertEquals("n1", p.getString("q"));
    assertEquals(
        List.of("GPU-b"), ids(GpuQuery.page(fleet, "idle", null, sort("gpu_uuid"), 0, 100)));
    assertEquals(
        List.of("GPU-d"),
        ids(GpuQuery.page(fleet, null, "gpu-D", sort("gpu_uuid"), 0, 100)),
        "the text matches in any case; the instances' own fields do not hold it");
    JsonObject beyond = GpuQuery.page(fleet, null, null, sort("gpu_uuid"), 10, 5);
    assertEquals(6, beyond.getInteger("total"));
    assertEquals(new JsonArray(), beyond.getJsonArray("gpus"));
  }

  @Test
  void theSummaryCoversTheWholeInventoryWhateverTheFilters() {
    JsonObject s =
        GpuQuery.page(fleet, "idle", "GPU-b", sort("node"), 0, 1).getJsonObject("summary");
    assertEquals(6, s.getInteger("gpus"));
    assertEquals(4, s.getInteger("active"));
    assertEquals(1, s.getInteger("idle"));
    assertEquals(1, s.getInteger("stale"));
    // Not stale, whole GPUs: GPU-c 300 W + GPU-d 200 W (GPU-b reports none; instances are GPU-d's).
    assertEquals(500.0, s.getDouble("power_w"));
    assertEquals(50.0, s.getDouble("mean_utilization_pct"));
    assertEquals(new JsonObject().put("llama", 5), s.getJsonObject("serving"));
  }

  @Test
  void badValuesAre400sNamingTheParameter() {
    Map<Map<String, String>, String> cases =
        Map.of(
            Map.of("sort", "colour"), "sort",
            Map.of("sort", "-"), "sort",
            Map.of("sort", "--power_w"), "sort",
            Map.of("q", "x".repeat(GpuQuery.MAX_TEXT + 1)), "q",
            Map.of("limit", "1001"), "limit",
            Map.of("offset", "-1"), "offset",
            Map.of("status", "hot"), "status",
            Map.of("page", "2"), "page");
    cases.forEach(
        (query, param) -> {
          QueryParams.BadParameter e =
              assertThrows(QueryParams.BadParameter.class, () -> parse(query), query.toString());
          assertEquals(param, e.parameter, query.toString());
        });
    QueryParams.BadParameter e =
        assertThrows(QueryParams.BadParameter.class, () -> parse(Map.of("sort", "colour")));
    assertTrue(e.getMessage().contains("-power_w"), e.getMessage());
    assertEquals("-temperature_c", sort("-Temperature_C").toString());
    assertEquals("gpu_uuid", parse(Map.of()).value("sort").toString(), "the default");
    assertEquals(
        "x".repeat(GpuQuery.MAX_TEXT), parse(Map.of("q", "x".repeat(GpuQuery.MAX_TEXT))).text("q"));
  }
}
