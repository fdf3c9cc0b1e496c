package io.gputelemetry.event;

/**
 * The two event streams of the pipeline, each with its schema, the field that scopes its ids and
 * the field its Kafka record key comes from.
 */
public enum EventType {
  GPU_SAMPLE("gpu.metrics.v1", "gpu_uuid", "gpu_uuid"),
  TOKEN_USAGE("token.usage.v1", "tenant", "model");

  private final String schemaName;
  private final String scopeField;
  private final String keyField;

  EventType(String schemaName, String scopeField, String keyField) {
    this.schemaName = schemaName;
    this.scopeField = scopeField;
    this.keyField = keyField;
  }

  /** Name of the schema, and of the default topic. */
  public String schemaName() {
    return schemaName;
  }

  /** The field an event id is unique within: the GPU for samples, the tenant for token events. */
  public String scopeField() {
    return scopeField;
  }

  /** The field the Kafka record key comes from: GPU for samples, model for token events. */
  public String keyField() {
    return keyField;
  }
}
