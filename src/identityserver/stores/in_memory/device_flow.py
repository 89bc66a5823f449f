"""In-memory ``DeviceFlowStore`` (Duende ``InMemoryDeviceFlowStore``)."""

from __future__ import annotations

import copy

from identityserver.models.grants import DeviceCode


class InMemoryDeviceFlowStore:
    def __init__(self) -> None:
        self._by_user_code: dict[str, tuple[str, DeviceCode]] = {}

    async def store_device_authorization(self, device_code: str, user_code: str, data: DeviceCode) -> None:
        if user_code in self._by_user_code or any(d == device_code for d, _ in self._by_user_code.values()):
            raise ValueError("device code or user code already exists")
        self._by_user_code[user_code] = (device_code, copy.deepcopy(data))

    async def find_by_user_code(self, user_code: str) -> DeviceCode | None:
        entry = self._by_user_code.get(user_code)
        return copy.deepcopy(entry[1]) if entry else None

    async def find_by_device_code(self, device_code: str) -> DeviceCode | None:
        for code, data in self._by_user_code.values():
            if code == device_code:
                return copy.deepcopy(data)
        return None

    async def update_by_user_code(self, user_code: str, data: DeviceCode) -> None:
        entry = self._by_user_code.get(user_code)
        if entry is None:
            raise KeyError("unknown user code")
        self._by_user_code[user_code] = (entry[0], copy.deepcopy(data))

    async def remove_by_device_code(self, device_code: str) -> None:
        for user_code, (code, _) in list(self._by_user_code.items()):
            if code == device_code:
                del self._by_user_code[user_code]

    async def take_by_device_code(self, device_code: str) -> DeviceCode | None:
        # no await between the lookup and the delete: atomic on the event loop
        for user_code, (code, data) in list(self._by_user_code.items()):
            if code == device_code:
                del self._by_user_code[user_code]
                return data
        return None

    def all(self) -> list[tuple[str, DeviceCode]]:
        """Every (hashed device code, authorization) pair, as copies."""
        return [(code, copy.deepcopy(data)) for code, data in self._by_user_code.values()]
