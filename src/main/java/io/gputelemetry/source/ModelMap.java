package io.gputelemetry.source;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Which LLM a GPU serves, from the Kubernetes labels DCGM attaches to it: rules {@code
 * NAMESPACE/POD-REGEX[/CONTAINER]=MODEL}, first match wins. DCGM knows the pod using a GPU, never
 * the model, so this mapping (or a target's {@code model} label) supplies it.
 */
public final class ModelMap {
  private record Rule(String namespace, Pattern pod, String container, String model) {}

  private final List<Rule> rules;

  private ModelMap(List<Rule> rules) {
    this.rules = rules;
  }

  /**
   * Parses the rules; an invalid one fails with a message naming it.
   *
   * @throws IllegalArgumentException on a malformed rule
   */
  public static ModelMap parse(List<String> specs) {
    List<Rule> rules = new ArrayList<>();
    for (String spec : specs) {
      int eq = spec.lastIndexOf('=');
      String[] sel = eq > 0 ? spec.substring(0, eq).split("/", -1) : new String[0];
      String model = eq > 0 ? spec.substring(eq + 1).trim() : "";
      if (sel.length < 2 || sel.length > 3 || sel[0].isBlank() || model.isEmpty()) {
        throw new IllegalArgumentException(
            "model rule '" + spec + "': expected NAMESPACE/POD-REGEX[/CONTAINER]=MODEL");
      }
      try {
        rules.add(
            new Rule(
                sel[0].trim(),
                Pattern.compile(sel[1].trim()),
                sel.length == 3 ? sel[2].trim() : null,
                model));
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(
            "model rule '" + spec + "': invalid pod pattern: " + e.getDescription(), e);
      }
    }
    return new ModelMap(List.copyOf(rules));
  }

  /** The model of the first matching rule, or null. */
  public String modelOf(String namespace, String pod, String container) {
    if (namespace == null || pod == null || pod.isEmpty()) {
      return null;
    }
    for (Rule r : rules) {
      if (r.namespace().equals(namespace)
          && r.pod().matcher(pod).matches()
          && (r.container() == null || r.container().equals(container))) {
        return r.model();
      }
    }
    return null;
  }
}
