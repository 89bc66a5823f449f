"""SQL ``DeviceFlowStore`` (Duende ``EntityFramework.Stores.DeviceFlowStore``; RFC 8628) on the ``DeviceCodes``
table. ``take_by_device_code`` consumes a code atomically (``DELETE ... RETURNING``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ARRAY, String, any_, bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from identityserver.models.grants import DeviceCode
from identityserver.storage.sqlalchemy.engine import Database
from identityserver.storage.sqlalchemy.entities.operational import device_codes as t
from identityserver.storage.sqlalchemy.fast_path import Gathered, Prepared, point_read
from identityserver.storage.sqlalchemy.mappers import device_code_from_row, device_code_to_row
from identityserver.storage.sqlalchemy.stores.common import report_unreadable

# prepared once: devices poll the token endpoint every few seconds until the user answers, each poll a read and the
# last a take (fast_path.py); the polls of many devices gathered on PostgreSQL (postgres_fast_path.py)
_DEVICE_CODE = bindparam("device_code", type_=t.c.DeviceCode.type)
_DEVICE_CODES = any_(bindparam("device_code", type_=ARRAY(String())))
_BY_DEVICE_CODE = point_read(t.c.DeviceCode, "device_code")
_BY_USER_CODE = point_read(t.c.UserCode, "user_code")
_REMOVE = Prepared(delete(t).where(t.c.DeviceCode == _DEVICE_CODE))
_TAKE = Prepared(
    delete(t).where(t.c.DeviceCode == _DEVICE_CODE).returning(*t.c),
    Gathered(delete(t).where(t.c.DeviceCode == _DEVICE_CODES).returning(*t.c), "device_code", "DeviceCode", once=True),
)


def _usable(row: Mapping[Any, Any] | None) -> DeviceCode | None:
    if row is None:
        return None
    try:
        return device_code_from_row(row)
    except ValueError as exc:
        report_unreadable("device code", row["DeviceCode"], str(exc))
        return None


class SqlDeviceFlowStore:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def store_device_authorization(self, device_code: str, user_code: str, data: DeviceCode) -> None:
        try:
            async with self.database.write() as conn:
                await conn.execute(t.insert().values(**device_code_to_row(device_code, user_code, data)))
        except IntegrityError as exc:
            raise ValueError("device code or user code already exists") from exc

    async def find_by_user_code(self, user_code: str) -> DeviceCode | None:
        return _usable(await self.database.fetch_one(_BY_USER_CODE, {"user_code": user_code}))

    async def find_by_device_code(self, device_code: str) -> DeviceCode | None:
        return _usable(await self.database.fetch_one(_BY_DEVICE_CODE, {"device_code": device_code}))

    async def update_by_user_code(self, user_code: str, data: DeviceCode) -> None:
        async with self.database.write() as conn:
            existing = (await conn.execute(select(t.c.DeviceCode).where(t.c.UserCode == user_code))).first()
            if existing is None:
                raise KeyError("unknown user code")
            values = device_code_to_row(existing[0], user_code, data)
            del values["UserCode"], values["DeviceCode"]
            await conn.execute(update(t).where(t.c.UserCode == user_code).values(**values))

    async def remove_by_device_code(self, device_code: str) -> None:
        await self.database.fetch_one(_REMOVE, {"device_code": device_code}, write=True)

    async def take_by_device_code(self, device_code: str) -> DeviceCode | None:
        """Atomically remove and return the authorization: of N concurrent calls exactly one gets it."""
        return _usable(await self.database.fetch_one(_TAKE, {"device_code": device_code}, write=True))
