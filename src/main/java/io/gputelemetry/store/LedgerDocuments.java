package io.gputelemetry.store;

import org.bson.BsonDateTime;
import org.bson.BsonDocument;
import org.bson.BsonDouble;
import org.bson.BsonInt64;
import org.bson.BsonString;

/**
 * A ledger row as a document: {@code _id} start|revision|key, the interval, the revision, the key's
 * parts (price_kind and commitment_id only when set: absent reads as ""), and each figure that is
 * not zero (an absent figure reads as 0).
 */
final class LedgerDocuments {
  private static final String[] FIGURES = {
    "gpu_s",
    "priced_gpu_s",
    "unpriced_gpu_s",
    "cost_usd",
    "list_cost_usd",
    "contracted_cost_usd",
    "billed_cost_usd",
    "energy_j",
    "active_energy_j",
    "input_tokens",
    "output_tokens",
    "requests",
    "priced_tokens",
    "unmetered_tokens",
    "uncovered_gpu_s"
  };
  private static final String SAMPLE_GAPS = "sample_gaps";
  private static final String PRICE_KIND = "price_kind";
  private static final String COMMITMENT = "commitment_id";

  private LedgerDocuments() {}

  static BsonDocument row(LedgerRow r, long rev) {
    BsonDocument d =
        new BsonDocument("_id", new BsonString(r.start() + "|" + rev + "|" + r.key()))
            .append("start", new BsonDateTime(r.start()))
            .append("end", new BsonDateTime(r.end()))
            .append("rev", new BsonInt64(rev))
            .append("kind", new BsonString(r.kind().name()))
            .append("model", new BsonString(r.model()))
            .append("tenant", new BsonString(r.tenant()))
            .append("gpu_model", new BsonString(r.gpuModel()));
    if (!r.priceKind().isEmpty()) {
      d.append(PRICE_KIND, new BsonString(r.priceKind()));
    }
    if (!r.commitment().isEmpty()) {
      d.append(COMMITMENT, new BsonString(r.commitment()));
    }
    double[] v = figures(r.amounts());
    for (int i = 0; i < FIGURES.length; i++) {
      if (v[i] != 0) {
        d.append(FIGURES[i], new BsonDouble(v[i]));
      }
    }
    if (r.amounts().sampleGaps() != 0) {
      d.append(SAMPLE_GAPS, new BsonInt64(r.amounts().sampleGaps()));
    }
    return d;
  }

  static LedgerRow row(BsonDocument d) {
    double[] v = new double[FIGURES.length];
    for (int i = 0; i < FIGURES.length; i++) {
      v[i] = d.isNumber(FIGURES[i]) ? d.getNumber(FIGURES[i]).doubleValue() : 0;
    }
    long gaps = d.isNumber(SAMPLE_GAPS) ? d.getNumber(SAMPLE_GAPS).longValue() : 0;
    return new LedgerRow(
        Documents.millis(d, "start"),
        Documents.millis(d, "end"),
        LedgerRow.Kind.valueOf(Documents.text(d, "kind")),
        Documents.text(d, "model"),
        Documents.text(d, "tenant"),
        Documents.text(d, "gpu_model"),
        optional(d, PRICE_KIND),
        optional(d, COMMITMENT),
        new LedgerRow.Amounts(
            v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12], v[13],
            v[14], gaps));
  }

  /** A text field written only when not empty: "" when absent. */
  private static String optional(BsonDocument d, String field) {
    String v = Documents.text(d, field);
    return v == null ? "" : v;
  }

  private static double[] figures(LedgerRow.Amounts a) {
    return new double[] {
      a.gpuSeconds(),
      a.pricedGpuSeconds(),
      a.unpricedGpuSeconds(),
      a.costUsd(),
      a.listCostUsd(),
      a.contractedCostUsd(),
      a.billedCostUsd(),
      a.energyJ(),
      a.activeEnergyJ(),
      a.inputTokens(),
      a.outputTokens(),
      a.requests(),
      a.pricedTokens(),
      a.unmeteredTokens(),
      a.uncoveredGpuSeconds()
    };
  }
}
