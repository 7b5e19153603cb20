"""Fan-in of two producers into string-keyed group_by counters, gathered by one global sink.

Each row says which PerStation instance counted the station, so runs compare only under the same budget.
"""

from d4py import GenericPE, ProducerPE, WorkflowGraph


class Readings(ProducerPE):
    def __init__(self, network: str, count: int) -> None:
        super().__init__()
        self.network, self.total = network, count

    def _process(self, inputs):
        for i in range(self.total):
            self.write("output", (f"{self.network}.S{i % 7:02d}", i))


class PerStation(GenericPE):
    def __init__(self) -> None:
        super().__init__(numprocesses=3)
        self._add_input("input", grouping=[0])
        self._add_output("output")
        self.seen: dict[str, list[int]] = {}

    def _process(self, inputs):
        station, value = inputs["input"]
        self.seen.setdefault(station, []).append(value)

    def _postprocess(self):
        for station, values in self.seen.items():
            self.write("output", (station, len(values), sum(values), self.instance_index))


class Gather(GenericPE):
    def __init__(self) -> None:
        super().__init__()
        self._add_input("input", grouping="global")
        self._add_output("output")
        self.rows: list[tuple[str, int, int, int]] = []

    def _process(self, inputs):
        station = inputs["input"][0]
        assert all(row[0] != station for row in self.rows), f"{station} reached two instances"
        self.rows.append(inputs["input"])

    def _postprocess(self):
        for row in sorted(self.rows):
            self.write("output", row)


graph = WorkflowGraph()
north, south, per_station, gather = Readings("NO", 300), Readings("SO", 200), PerStation(), Gather()
graph.connect(north, "output", per_station, "input")
graph.connect(south, "output", per_station, "input")
graph.connect(per_station, "output", gather, "input")
