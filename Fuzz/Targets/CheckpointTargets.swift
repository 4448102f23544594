import TroL

func fuzzSafeTensors(_ bytes: [UInt8]) {
  let path = ScratchFile.write(bytes, named: "model.safetensors")
  guard let file = try? SafeTensorsFile(path: path) else { return }
  _ = file.metadata
  for name in file.names {
    _ = try? file.info(name)
    _ = try? file.bytes(name)
    _ = try? file.floats(name)
    _ = try? file.int64s(name)
    _ = try? file.uint8s(name)
  }
}

func fuzzPickle(_ bytes: [UInt8]) {
  let path = ScratchFile.write(bytes, named: "trol_gating.pt")
  if let file = try? TorchStateDictFile(path: path) {
    for tensor in file.tensors { _ = file.tensor(tensor.name) }
  }
  _ = try? TroLGate.load(path: path)
}
