"""Physical stock ledgers: warehouse lots (physical, allocatable and WMS book quantity)
and line-side stock per production line. Quantities are integers in base units."""

from __future__ import annotations

from .plant_state import LotState


class Warehouse:
    def __init__(self) -> None:
        self.lots: dict[str, LotState] = {}
        self._fifo: dict[str, list[str]] = {}
        self._sequence = 0

    def lot(self, lot_id: str, material_id: str) -> LotState:
        if lot_id not in self.lots:
            self._sequence += 1
            self.lots[lot_id] = LotState(lot_id, material_id, self._sequence)
        lot = self.lots[lot_id]
        fifo = self._fifo.setdefault(material_id, [])
        if lot_id not in fifo:
            fifo.append(lot_id)
            fifo.sort(key=lambda known: self.lots[known].created_seq)
        return lot

    def put(self, lot_id: str, material_id: str, bin_id: str, quantity: int, *, allocatable: bool = True) -> None:
        lot = self.lot(lot_id, material_id)
        if lot.physical > 0 and lot.bin_id != bin_id:
            raise ValueError(f"lot {lot_id} already stored in {lot.bin_id}")
        lot.bin_id = bin_id
        lot.physical += quantity
        lot.book += quantity
        if allocatable:
            lot.available += quantity

    def release_allocation(self, lot_id: str, quantity: int) -> None:
        """Make quantity that was put away as pre-allocated count as available."""
        self.lots[lot_id].available += quantity

    def available_quantity(self, material_id: str) -> int:
        return sum(self.lots[lot_id].available for lot_id in self._fifo.get(material_id, ()))

    def allocate(self, material_id: str, quantity: int) -> list[tuple[str, int]]:
        """Reserve quantity FIFO over lots; raises if not enough is available."""
        allocations = []
        remaining = quantity
        for lot_id in self._fifo.get(material_id, ()):
            lot = self.lots[lot_id]
            if remaining == 0:
                break
            take = min(lot.available, remaining)
            if take > 0:
                lot.available -= take
                remaining -= take
                allocations.append((lot_id, take))
        if remaining:
            for lot_id, take in allocations:
                self.lots[lot_id].available += take
            raise ValueError(f"cannot allocate {quantity} of {material_id}")
        return allocations

    def take(self, lot_id: str, quantity: int, *, allocated: bool = True) -> str:
        """Physically remove quantity from the lot's bin; returns the bin."""
        lot = self.lots[lot_id]
        if quantity > lot.physical:
            raise ValueError(f"lot {lot_id} holds {lot.physical}, cannot take {quantity}")
        bin_id = lot.bin_id
        lot.physical -= quantity
        lot.book -= quantity
        if not allocated:
            lot.available -= quantity
        self._prune(lot)
        return bin_id

    def lose(self, lot_id: str, quantity: int) -> str:
        """Unreported physical loss (damage, theft): the WMS book is not updated."""
        lot = self.lots[lot_id]
        lot.physical -= quantity
        lot.available -= quantity
        return lot.bin_id

    def move(self, lot_id: str, to_bin: str) -> str:
        lot = self.lots[lot_id]
        from_bin, lot.bin_id = lot.bin_id, to_bin
        return from_bin

    def lot_ids_of(self, material_id: str) -> list[str]:
        return list(self._fifo.get(material_id, ()))

    def stored_lot_ids(self) -> list[str]:
        return [lot_id for material in sorted(self._fifo) for lot_id in self._fifo[material]
                if self.lots[lot_id].physical > 0]

    def _prune(self, lot: LotState) -> None:
        if lot.physical == 0 and lot.available == 0:
            fifo = self._fifo.get(lot.material_id, [])
            if lot.lot_id in fifo:
                fifo.remove(lot.lot_id)


class LineSide:
    """Stock at one line-side supply area, FIFO per material, plus the planning balance
    `free` = physical + in-transit issues - requirements of released, unstarted orders."""

    def __init__(self) -> None:
        self.stock: dict[str, dict[str, int]] = {}
        self.free: dict[str, int] = {}

    def quantity(self, material_id: str) -> int:
        return sum(self.stock.get(material_id, {}).values())

    def add(self, material_id: str, lot_id: str, quantity: int) -> None:
        lots = self.stock.setdefault(material_id, {})
        lots[lot_id] = lots.get(lot_id, 0) + quantity

    def take_fifo(self, material_id: str, quantity: int) -> list[tuple[str, int]]:
        lots = self.stock.get(material_id, {})
        taken = []
        remaining = quantity
        for lot_id in list(lots):
            if remaining == 0:
                break
            take = min(lots[lot_id], remaining)
            lots[lot_id] -= take
            remaining -= take
            taken.append((lot_id, take))
            if lots[lot_id] == 0:
                del lots[lot_id]
        if remaining:
            raise ValueError(f"line-side shortage of {material_id}: missing {remaining}")
        return taken

    def take_lot(self, material_id: str, lot_id: str, quantity: int) -> None:
        lots = self.stock[material_id]
        lots[lot_id] -= quantity
        if lots[lot_id] == 0:
            del lots[lot_id]
