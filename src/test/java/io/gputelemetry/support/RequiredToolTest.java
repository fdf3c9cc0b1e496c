package io.gputelemetry.support;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class RequiredToolTest {
  private static final String TOOL = "no-such-tool-4f1c";

  @Test
  void aMissingToolFailsUnderCiNamingTheToolAndItsInstallCommand() {
    AssertionFailedError e =
        assertThrows(
            AssertionFailedError.class,
            () -> RequiredTool.missing(TOOL, "apt-get install no-such-tool", "true"));
    assertEquals(
        "no-such-tool-4f1c is not on the PATH; install it with: apt-get install no-such-tool"
            + " (CI is set: a missing tool fails the build)",
        e.getMessage());
  }

  @Test
  void aMissingToolSkipsWithTheSameWordsWhereCiIsNotSet() {
    for (String ci : new String[] {null, ""}) {
      TestAbortedException e =
          assertThrows(
              TestAbortedException.class,
              () -> RequiredTool.missing(TOOL, "apt-get install no-such-tool", ci));
      assertEquals(
          "no-such-tool-4f1c is not on the PATH; install it with:"
              + " apt-get install no-such-tool",
          e.getMessage());
    }
  }

  @Test
  void onlyExecutablesOnThePathAreFound() {
    assertNull(RequiredTool.onPath(TOOL));
    assertEquals("bash", RequiredTool.onPath("bash").getFileName().toString());
  }
}
