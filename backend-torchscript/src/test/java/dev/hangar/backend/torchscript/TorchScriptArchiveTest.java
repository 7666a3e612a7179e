package dev.hangar.backend.torchscript;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a TorchScript archive for messages, without libtorch. */
class TorchScriptArchiveTest {
  @TempDir Path directory;

  @Test
  void forwardsArgumentNamesAreReadFromTheArchivesCode() {
    assertThat(TorchScriptArchive.forwardArgumentNames(Fixtures.file("difference.pt")))
        .contains(List.of("a", "b"));
    assertThat(
            TorchScriptArchive.forwardArgumentNames(
                SampleModels.MODELS.resolve("quality_predictor_torchscript/1/model.pt")))
        .contains(List.of("features"));
  }

  @Test
  void argumentsWithNestedTypesAndDefaultsAreSplitAtTheirTopLevelCommas() {
    String code =
        "class M(Module):\n"
            + "  def forward(self: __torch__.M,\n"
            + "    pair: Tuple[Tensor, Tensor],\n"
            + "    mask: Optional[Tensor]=None,\n"
            + "    scale: float=1.) -> Dict[str, Tensor]:\n"
            + "    return {}\n";
    assertThat(TorchScriptArchive.parseForward(code)).contains(List.of("pair", "mask", "scale"));
    assertThat(TorchScriptArchive.parseForward("def forward(self: M) -> Tensor:"))
        .contains(List.of());
  }

  @Test
  void archivesAreToldApart() throws Exception {
    assertThat(TorchScriptArchive.kindOf(Fixtures.file("echo.pt")))
        .isEqualTo(TorchScriptArchive.Kind.TORCHSCRIPT);
    assertThat(TorchScriptArchive.kindOf(Fixtures.file("state_dict.pt")))
        .isEqualTo(TorchScriptArchive.Kind.PICKLE_ARCHIVE);
    Path garbage = Files.write(directory.resolve("garbage.pt"), new byte[] {1, 2, 3});
    assertThat(TorchScriptArchive.kindOf(garbage)).isEqualTo(TorchScriptArchive.Kind.OTHER);
    assertThat(TorchScriptArchive.forwardArgumentNames(garbage)).isEmpty();
  }
}
