package dev.hangar.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Progress on a terminal (a bar redrawn in place) and elsewhere (throttled plain lines). */
class ProgressTest {
  @Test
  void plainLinesAreThrottledToOneASecondAndMilestonesAlwaysPrint() {
    StringWriter text = new StringWriter();
    AtomicLong now = new AtomicLong();
    Progress progress = new Progress(Progress.Style.PLAIN, new PrintWriter(text), now::get);
    progress.start("loading models", 4);
    progress.update(0, "a");
    now.addAndGet(300_000_000L);
    progress.update(1, "b");
    progress.milestone("loaded 1/4: a");
    now.addAndGet(800_000_000L);
    progress.update(2, "c");
    progress.finish();
    assertThat(text.toString())
        .isEqualTo("loading models 0/4: a\nloaded 1/4: a\nloading models 2/4: c\n");
  }

  @Test
  void theBarIsRedrawnInPlaceAndErasedAtTheEnd() {
    StringWriter text = new StringWriter();
    Progress progress = new Progress(Progress.Style.BAR, new PrintWriter(text), () -> 0);
    progress.start("bench m", 4);
    progress.update(2, "concurrency 8: window 2/4");
    String bar = "\rbench m [############............] 2/4  concurrency 8: window 2/4";
    assertThat(text.toString()).isEqualTo(bar);
    progress.milestone("concurrency 8: done");
    progress.finish();
    String erase = "\r" + " ".repeat(bar.length() - 1) + "\r";
    assertThat(text.toString()).isEqualTo(bar + erase + "concurrency 8: done\n");
  }

  @Test
  void noneShowsNothingAndAutoIsPlainWithoutATerminal() {
    StringWriter text = new StringWriter();
    Progress none = new Progress(Progress.Style.NONE, new PrintWriter(text), () -> 0);
    none.start("x", 1);
    none.update(1, "y");
    none.milestone("z");
    none.finish();
    assertThat(text.toString()).isEmpty();
    // the test JVM's streams are pipes, not a terminal
    assertThat(new Progress(Progress.Style.AUTO, new PrintWriter(text), () -> 0).style())
        .isEqualTo(Progress.Style.PLAIN);
  }
}
