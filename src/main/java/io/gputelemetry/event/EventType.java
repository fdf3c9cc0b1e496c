package io.gputelemetry.event;

/**
 * The two event streams of the pipeline, each with its schema and the field that scopes its ids.
 */
public enum EventType {
  GPU_SAMPLE("gpu.metrics.v1", "gpu_uuid", "gpu_metrics"),
  TOKEN_USAGE("token.usage.v1", "tenant", "token_usage");

  private final String schemaName;
  private final String scopeField;
  private final String collection;

  EventType(String schemaName, String scopeField, String collection) {
    this.schemaName = schemaName;
    this.scopeField = scopeField;
    this.collection = collection;
  }

  /** Name of the schema, and of the default topic. */
  public String schemaName() {
    return schemaName;
  }

  /** The field an event id is unique within: the GPU for samples, the tenant for token events. */
  public String scopeField() {
    return scopeField;
  }

  /** The MongoDB collection that stores this type's raw events. */
  public String collection() {
    return collection;
  }

  /** The field the Kafka record key comes from: GPU for samples, model for token events. */
  public String keyField() {
    return this == GPU_SAMPLE ? "gpu_uuid" : "model";
  }
}
