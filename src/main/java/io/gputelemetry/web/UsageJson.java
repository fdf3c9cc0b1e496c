package io.gputelemetry.web;

import com.fasterxml.jackson.core.JsonGenerator;
import io.gputelemetry.accounting.BudgetStatus;
import io.gputelemetry.accounting.Budgets;
import io.gputelemetry.accounting.PriceBook;
import io.gputelemetry.accounting.UsageCalculator;
import io.gputelemetry.json.Json;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The JSON answer of /api/v1/usage, written by a streaming generator straight into the one buffer
 * the response sends: no tree of JSON objects and no intermediate string, so an answer is held
 * once. Called on a worker (an answer of the largest allowed size takes tens of milliseconds).
 */
final class UsageJson {
  private UsageJson() {}

  /**
   * The answer; with a {@code tenant} (a tenant-bound key's view) its own lines and their sum only:
   * nothing of the fleet's totals, the idle line or other tenants.
   */
  static Buffer write(UsageCalculator.Report r, PriceBook prices, String tenant)
      throws IOException {
    return write(r, prices, tenant, Budgets.none(), null);
  }

  /**
   * The answer, each budgeted tenant's line (grouped by tenant) with its budget object: the current
   * month's status as of {@code status} (null: not computed yet).
   */
  static Buffer write(
      UsageCalculator.Report r,
      PriceBook prices,
      String tenant,
      Budgets budgets,
      BudgetStatus status)
      throws IOException {
    Buffer out = Buffer.buffer(16 * 1024);
    try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(new BufferStream(out))) {
      UsageCalculator.Range range = r.range();
      g.writeStartObject();
      g.writeStringField("from", Instant.ofEpochMilli(range.from()).toString());
      g.writeStringField("to", Instant.ofEpochMilli(range.to()).toString());
      g.writeNumberField("step_seconds", range.step() / 1000.0);
      g.writeStringField("group_by", r.groupBy().name().toLowerCase(Locale.ROOT));
      g.writeObjectFieldStart("source");
      g.writeStringField("ledger_until", Instant.ofEpochMilli(r.source().ledgerUntil()).toString());
      g.writeNumberField("ledger_rows", r.source().ledgerRows());
      g.writeEndObject();
      UsageCalculator.Totals f = r.fleet();
      UsageCalculator.Totals idle = r.idle().total();
      if (tenant != null) {
        g.writeStringField("tenant", tenant);
        if (budgets.of(tenant) != null) {
          BudgetJson.write(g, budgets.of(tenant), status);
        }
      }
      g.writeObjectFieldStart("totals");
      totals(g, f);
      if (tenant == null) {
        g.writeNumberField("fleet_gpu_cost_usd", f.costUsd());
        g.writeNumberField("idle_cost_usd", idle.costUsd());
        g.writeNumberField("allocated_cost_usd", f.costUsd() - idle.costUsd());
        g.writeNumberField("idle_energy_j", idle.energyJ());
        g.writeNumberField("uncovered_gpu_seconds", f.uncoveredGpuSeconds());
        g.writeNumberField("sample_gaps", f.sampleGaps());
      }
      g.writeEndObject();
      g.writeArrayFieldStart("groups");
      for (Map.Entry<String, UsageCalculator.Line> e : r.groups().entrySet()) {
        UsageCalculator.Totals t = e.getValue().total();
        g.writeStartObject();
        totals(g, t);
        g.writeStringField("key", e.getKey());
        if (r.groupBy() == UsageCalculator.GroupBy.MODEL) {
          PriceBook.ListPrice lp = prices.listPrice(e.getKey());
          if (lp != null) {
            g.writeNumberField(
                "list_price_cost_usd",
                t.inputTokens() * lp.inputUsdPer1m() / 1e6
                    + t.outputTokens() * lp.outputUsdPer1m() / 1e6);
          }
        }
        if (r.groupBy() == UsageCalculator.GroupBy.TENANT && budgets.of(e.getKey()) != null) {
          BudgetJson.write(g, budgets.of(e.getKey()), status);
        }
        series(g, range, e.getValue().series());
        g.writeEndObject();
      }
      g.writeEndArray();
      if (tenant == null) {
        g.writeObjectFieldStart("idle");
        totals(g, idle);
        series(g, range, r.idle().series());
        g.writeEndObject();
      }
      g.writeEndObject();
    }
    return out;
  }

  private static void series(
      JsonGenerator g, UsageCalculator.Range range, List<UsageCalculator.Totals> s)
      throws IOException {
    g.writeArrayFieldStart("series");
    for (int i = 0; i < s.size(); i++) {
      g.writeStartObject();
      totals(g, s.get(i));
      g.writeStringField("start", Instant.ofEpochMilli(range.stepStart(i)).toString());
      g.writeEndObject();
    }
    g.writeEndArray();
  }

  private static void totals(JsonGenerator g, UsageCalculator.Totals t) throws IOException {
    g.writeNumberField("input_tokens", t.inputTokens());
    g.writeNumberField("output_tokens", t.outputTokens());
    g.writeNumberField("total_tokens", t.tokens());
    g.writeNumberField("priced_tokens", t.pricedTokens());
    g.writeNumberField("unpriced_tokens", t.unpricedTokens());
    g.writeNumberField("unmetered_tokens", t.unmeteredTokens());
    g.writeNumberField("requests", t.requests());
    g.writeNumberField("cost_usd", t.costUsd());
    g.writeNumberField("list_cost_usd", t.listCostUsd());
    g.writeNumberField("contracted_cost_usd", t.contractedCostUsd());
    g.writeNumberField("billed_cost_usd", t.billedCostUsd());
    g.writeNumberField("energy_j", t.energyJ());
    g.writeNumberField("active_energy_j", t.activeEnergyJ());
    g.writeNumberField("gpu_seconds", t.gpuSeconds());
    g.writeNumberField("unpriced_gpu_seconds", t.unpricedGpuSeconds());
    ratio(g, "cost_per_1m_tokens_usd", t.costPer1mTokensUsd());
    ratio(g, "joules_per_token", t.joulesPerToken());
    ratio(g, "active_joules_per_token", t.activeJoulesPerToken());
    ratio(g, "tokens_per_joule", t.tokensPerJoule());
  }

  /** A ratio, or null where its denominator is 0 (never a made-up 0). */
  private static void ratio(JsonGenerator g, String name, Double value) throws IOException {
    if (value != null) {
      g.writeNumberField(name, value);
    } else {
      g.writeNullField(name);
    }
  }

  /** An output stream that appends to a Vert.x buffer (the generator buffers its own writes). */
  private static final class BufferStream extends OutputStream {
    private final Buffer buffer;

    BufferStream(Buffer buffer) {
      this.buffer = buffer;
    }

    @Override
    public void write(int b) {
      buffer.appendByte((byte) b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      buffer.appendBytes(b, off, len);
    }
  }
}
