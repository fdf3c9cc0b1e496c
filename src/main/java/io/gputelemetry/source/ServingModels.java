package io.gputelemetry.source;

import io.gputelemetry.config.AppConfig;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The LLM each GPU serves, as the inference servers say: a vLLM / NIM target's models, joined to
 * the GPUs its configuration names ({@code gpus=UUID;UUID}) and to its pod ({@code
 * namespace=}/{@code pod=} labels, matched with the pod DCGM reports for a GPU). Filled by the vLLM
 * scrapes, read by the DCGM mapping; bounded by the configured targets.
 */
public final class ServingModels {
  private final Map<String, String> byGpu = new ConcurrentHashMap<>();
  private final Map<String, String> byPod = new ConcurrentHashMap<>();

  /** Records what a vLLM target serves: the first of its models (in name order). */
  public void served(AppConfig.Target target, List<String> models) {
    if (models.isEmpty()) {
      return;
    }
    String model = models.stream().sorted().findFirst().get();
    VllmMapping.servingGpus(target).forEach(g -> byGpu.put(g, model));
    String ns = target.labels().get("namespace");
    String pod = target.labels().get("pod");
    if (ns != null && pod != null) {
      byPod.put(ns + '/' + pod, model);
    }
  }

  /** The model a GPU serves, by its UUID or else by the pod DCGM says uses it; null if unknown. */
  public String modelOf(String gpuUuid, String namespace, String pod) {
    String m = gpuUuid == null ? null : byGpu.get(gpuUuid);
    if (m == null && namespace != null && pod != null) {
      m = byPod.get(namespace + '/' + pod);
    }
    return m;
  }
}
