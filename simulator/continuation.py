"""The simulation state stored in `<out>/state/simulation_state.json` after every simulation, so that
`continue_simulation` (`plantlake simulate --continue`) can append later days as if the first run had
simply gone on.

The file is plain JSON (no pickle: nothing in it is executed when it is read). It holds:

- `format`, `config` (the `PlantConfig` of everything simulated so far, `days` = all days), `start_date`,
  `end_date`, `next_date`, `periods` (one entry per run: first day, last day, days) and `master_digest`
  (SHA-256 of the master data; a continuation refuses when the rebuilt master data differ).
- `output`: the writer's running totals (`counts`, `fault_count` for the next `F-` id, `fault_types`,
  `truth_rows` = rows per truth file, checked against the files before continuing).
- `model`, `logistics`, `flow`, `machines`, `work_orders`: the complete runtime state of the discrete-event
  model at the end of the last day: id counters (`_counters`: LOT-, WO-, T, EV, MV, SHP-, QI, B), the
  random streams (numpy PCG64 bit-generator states), the event heap (pending events such as putaways,
  issues in transit, shipments, repairs, the next machine events), warehouse lots with physical, allocatable
  and WMS-book quantities per bin, line-side stock and planning balances, goods staged on docks, open
  customer shipments, and every machine's state (wear, drift, repair, queue, the current operation, counters).
  Work orders and machines are stored once in their tables and referenced elsewhere by id.

Values are encoded with one-key tags: `{"tuple": [...]}`, `{"deque": [...]}`, `{"map": {...}}` (string keys),
`{"pairs": [[key, value], ...]}` (other keys), `{"rng": <bit generator state>}`, `{"obj": [class, {...}]}`,
`{"work_order": id}`, `{"machine": id}`, `{"ref": "model" | "logistics" | "flow"}`, `{"fn": name}` and
`{"method": [owner, name]}` for event handlers. Only the classes and handlers listed here can be restored;
a state whose classes have other fields than the running simulator's is refused (written by another version).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections import deque
from dataclasses import fields, is_dataclass
from pathlib import Path

import numpy as np

from .config import PlantConfig
from .logistics import Logistics, OpenShipment
from .machine_logic import machine_event
from .master_data import MasterData
from .material_flow import MaterialFlow
from .material_supply import MaterialSupply
from .plant_model import PlantModel
from .plant_state import LotState, MachineState, OperationResult, WorkOrder
from .planning import plan_day
from .production_output import putaway_production_lot
from .warehouse import LineSide, Warehouse

STATE_FORMAT = 2  # 2: the thermal fault fields of MachineState
STATE_FILE = Path("state") / "simulation_state.json"
# PlantModel attributes rebuilt from the config and master data (not stored)
DERIVED_MODEL_ATTRIBUTES = frozenset({"cfg", "master", "tz", "day", "calendar", "flow", "logistics", "day_hooks",
                                      "supply", "dispatch_ranks"})
CLASSES: dict[str, type] = {cls.__name__: cls for cls in (LotState, OperationResult, OpenShipment, Warehouse,
                                                          LineSide)}
FUNCTIONS = {f"{fn.__module__}.{fn.__name__}": fn for fn in (machine_event, plan_day, putaway_production_lot)}
METHOD_OWNERS: dict[str, type] = {"logistics": Logistics, "flow": MaterialFlow, "supply": MaterialSupply}


class StateError(ValueError):
    """The stored state cannot be written or restored."""


# --- encoding -----------------------------------------------------------------------------
class _Encoder:
    def __init__(self, model: PlantModel):
        self.model = model
        self.work_orders: dict[str, WorkOrder] = {}

    def value(self, value: object) -> object:
        if value is None or isinstance(value, (bool, str)):
            return value
        if type(value) is int or type(value) is float:
            return value
        if isinstance(value, (np.generic, np.ndarray)):
            raise StateError(f"numpy value {value!r} ({type(value).__name__}) in the simulation state: "
                             "convert it to a Python number where it is created")
        if isinstance(value, tuple):
            return {"tuple": [self.value(v) for v in value]}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, deque):
            return {"deque": [self.value(v) for v in value]}
        if isinstance(value, dict):
            if all(isinstance(key, str) for key in value):
                return {"map": {key: self.value(v) for key, v in value.items()}}
            return {"pairs": [[self.value(key), self.value(v)] for key, v in value.items()]}
        if isinstance(value, np.random.Generator):
            state = value.bit_generator.state
            if state.get("bit_generator") != "PCG64":
                raise StateError(f"unsupported bit generator {state.get('bit_generator')}")
            return {"rng": state}
        if isinstance(value, WorkOrder):
            known = self.work_orders.setdefault(value.work_order_id, value)
            if known is not value:
                raise StateError(f"two work orders with id {value.work_order_id}")
            return {"work_order": value.work_order_id}
        if isinstance(value, MachineState):
            if self.model.machines.get(value.machine_id) is not value:
                raise StateError(f"machine {value.machine_id} is not one of the model's machines")
            return {"machine": value.machine_id}
        if value is self.model:
            return {"ref": "model"}
        if value is self.model.logistics:
            return {"ref": "logistics"}
        if value is self.model.flow:
            return {"ref": "flow"}
        if value is self.model.supply:
            return {"ref": "supply"}
        if inspect.ismethod(value):
            for owner, cls in METHOD_OWNERS.items():
                if value.__self__ is getattr(self.model, owner) and isinstance(value.__self__, cls):
                    return {"method": [owner, value.__func__.__name__]}
            raise StateError(f"event handler {value!r} cannot be stored")
        if inspect.isfunction(value):
            name = f"{value.__module__}.{value.__name__}"
            if FUNCTIONS.get(name) is not value:
                raise StateError(f"event handler {name} cannot be stored: add it to continuation.FUNCTIONS")
            return {"fn": name}
        if type(value).__name__ in CLASSES and CLASSES[type(value).__name__] is type(value):
            return {"obj": [type(value).__name__, self.attributes(value)]}
        raise StateError(f"{type(value).__name__} cannot be stored in the simulation state: "
                         "teach simulator/continuation.py to store it")

    def attributes(self, obj: object, skip: frozenset[str] = frozenset()) -> dict[str, object]:
        names = [f.name for f in fields(obj)] if is_dataclass(obj) else list(vars(obj))
        return {name: self.value(getattr(obj, name)) for name in names if name not in skip}


def encode_model(model: PlantModel) -> dict[str, object]:
    """The model's runtime state as JSON-ready dicts (see the module docstring)."""
    encoder = _Encoder(model)
    state = {
        "model": encoder.attributes(model, DERIVED_MODEL_ATTRIBUTES),
        "logistics": encoder.attributes(model.logistics, frozenset({"model"})),
        "flow": encoder.attributes(model.flow, frozenset({"model"})),
        "supply": encoder.attributes(model.supply, frozenset({"model", "policy"})),
        "machines": {machine_id: encoder.attributes(machine) for machine_id, machine in model.machines.items()},
    }
    referenced = sorted(encoder.work_orders.items())  # open orders, queued operations, pending issues
    state["work_orders"] = {work_order_id: encoder.attributes(work_order) for work_order_id, work_order in referenced}
    if len(encoder.work_orders) != len(referenced):
        raise StateError("work orders must not reference other work orders")
    return state


# --- decoding -----------------------------------------------------------------------------
class _Decoder:
    def __init__(self, model: PlantModel, work_orders: dict[str, WorkOrder], machines: dict[str, MachineState]):
        self.model, self.work_orders, self.machines = model, work_orders, machines

    def value(self, value: object) -> object:
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            raise StateError(f"malformed state value {str(value)[:80]}")
        (tag, data), = value.items()
        if tag == "tuple":
            return tuple(self.value(v) for v in data)
        if tag == "deque":
            return deque(self.value(v) for v in data)
        if tag == "map":
            return {key: self.value(v) for key, v in data.items()}
        if tag == "pairs":
            return {self.value(key): self.value(v) for key, v in data}
        if tag == "rng":
            if data.get("bit_generator") != "PCG64":
                raise StateError(f"unsupported bit generator {data.get('bit_generator')}")
            rng = np.random.default_rng()
            rng.bit_generator.state = data
            return rng
        if tag == "work_order":
            return self._lookup(self.work_orders, data, "work order")
        if tag == "machine":
            return self._lookup(self.machines, data, "machine")
        if tag == "ref":
            if data == "model":
                return self.model
            if data in METHOD_OWNERS:
                return getattr(self.model, data)
        elif tag == "method":
            owner, name = data
            cls = METHOD_OWNERS.get(owner)
            if cls is not None and not name.startswith("_") and inspect.isfunction(getattr(cls, name, None)):
                return getattr(getattr(self.model, owner), name)
        elif tag == "fn":
            if data in FUNCTIONS:
                return FUNCTIONS[data]
        elif tag == "obj":
            name, attributes = data
            if name in CLASSES:
                obj = CLASSES[name].__new__(CLASSES[name])
                self.fill(obj, attributes, _attribute_names(CLASSES[name]))
                return obj
        raise StateError(f"unknown state value {str(value)[:80]}")

    @staticmethod
    def _lookup(table: dict, key: object, kind: str) -> object:
        if key not in table:
            raise StateError(f"the state references unknown {kind} {key}")
        return table[key]

    def fill(self, obj: object, attributes: dict[str, object], expected: set[str]) -> None:
        if set(attributes) != expected:
            raise StateError(f"stored {type(obj).__name__} has fields {sorted(set(attributes) ^ expected)} that "
                             "the running simulator does not (or the reverse): written by another version")
        for name, value in attributes.items():
            setattr(obj, name, self.value(value))


def _attribute_names(cls: type) -> set[str]:
    if is_dataclass(cls):
        return {f.name for f in fields(cls)}
    return set(vars(cls()))


def restore_model(state: dict, cfg: PlantConfig, master: MasterData) -> PlantModel:
    """A model continuing exactly where the stored one stopped (its `cfg` may cover more days)."""
    model = PlantModel(cfg, master)
    work_orders = {work_order_id: WorkOrder.__new__(WorkOrder) for work_order_id in state["work_orders"]}
    machines = {machine_id: MachineState.__new__(MachineState) for machine_id in state["machines"]}
    if list(machines) != list(master.machine_ids):
        raise StateError("the stored machines differ from the plant's machines")
    decoder = _Decoder(model, work_orders, machines)
    for work_order_id, attributes in state["work_orders"].items():
        decoder.fill(work_orders[work_order_id], attributes, _attribute_names(WorkOrder))
    for machine_id, attributes in state["machines"].items():
        decoder.fill(machines[machine_id], attributes, _attribute_names(MachineState))
    decoder.fill(model.logistics, state["logistics"], set(vars(model.logistics)) - {"model"})
    decoder.fill(model.flow, state["flow"], set(vars(model.flow)) - {"model"})
    decoder.fill(model.supply, state["supply"], set(vars(model.supply)) - {"model", "policy"})
    decoder.fill(model, state["model"], set(vars(model)) - DERIVED_MODEL_ATTRIBUTES)
    if list(model.machines) != list(machines) or any(model.machines[m] is not machines[m] for m in machines):
        raise StateError("the stored model's machines do not match the machine table")
    model.day = None
    return model


# --- the state file -------------------------------------------------------------------------
def master_digest(master: MasterData) -> str:
    return hashlib.sha256(json.dumps(master.tables, sort_keys=True, default=str).encode("utf-8")).hexdigest()


def write_state(out_dir: Path, state: dict) -> Path:
    """Write the state next to its final place; `commit_state` moves it there."""
    path = Path(out_dir) / STATE_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(state, separators=(",", ":")) + "\n", encoding="utf-8")
    return partial


def commit_state(out_dir: Path) -> None:
    path = Path(out_dir) / STATE_FILE
    os.replace(path.with_name(path.name + ".partial"), path)


def read_state(out_dir: Path) -> dict:
    path = Path(out_dir) / STATE_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StateError(f"cannot read {path}: {exc}") from exc
    if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
        found = state.get("format") if isinstance(state, dict) else None
        raise StateError(f"{path} has state format {found}, this simulator reads format {STATE_FORMAT}")
    return state
