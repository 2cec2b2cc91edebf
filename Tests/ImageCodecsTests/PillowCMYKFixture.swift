import Foundation

/// A 32 x 16 CMYK JPEG made by Pillow 13 (`Image.fromarray(cmyk, "CMYK").save(f, "JPEG",
/// quality=95, subsampling=0)`: plain CMYK with an Adobe APP14 marker, transform 0), eight flat
/// 8 x 8 patches: C,M,Y,K = (0,0,0,0) (255,0,0,0) (0,255,0,0) (0,0,255,0) / (0,0,0,255)
/// (60,120,200,30) (200,30,90,100) (10,240,20,0). Our encoder writes YCCK, so this covers the
/// other CMYK form. 411 bytes.
enum PillowCMYKFixture {
    static let jpeg = [UInt8](Data(base64Encoded:
        "/9j/7gAOQWRvYmUAZAAAAAAA/9sAQwACAQEBAQECAQEBAgICAgIEAwICAgIFBAQDBAYFBgYGBQYGBgcJCAYHCQcGBggLCAkK" +
        "CgoKCgYICwwLCgwJCgoK/8AAFAgAEAAgBEMRAE0RAFkRAEsRAP/EAB8AAAEFAQEBAQEBAAAAAAAAAAABAgMEBQYHCAkKC//E" +
        "ALUQAAIBAwMCBAMFBQQEAAABfQECAwAEEQUSITFBBhNRYQcicRQygZGhCCNCscEVUtHwJDNicoIJChYXGBkaJSYnKCkqNDU2" +
        "Nzg5OkNERUZHSElKU1RVVldYWVpjZGVmZ2hpanN0dXZ3eHl6g4SFhoeIiYqSk5SVlpeYmZqio6Slpqeoqaqys7S1tre4ubrC" +
        "w8TFxsfIycrS09TV1tfY2drh4uPk5ebn6Onq8fLz9PX29/j5+v/aAA4EQwBNAFkASwAAPwD9/K/fyv38r9/K/gDooor+/wAr" +
        "+AOiiiv7/K/gDooor+/yv4A6+D6/B+v436/uEr+c+v1or9uK/Oev6+K/i3r9GK/ZCv/Z")!)

    /// Pillow's `Image.open(f).convert("RGB")` of it, row-major RGB.
    static let rgb = [UInt8](Data(base64Encoded:
        "////////////////////////////////AP//AP//AP//AP//AP//AP//AP//AP///wD//wD//wD//wD//wD//wD//wD//wD/" +
        "//8A//8A//8A//8A//8A//8A//8A//8A////////////////////////////////AP//AP//AP//AP//AP//AP//AP//AP//" +
        "/wD//wD//wD//wD//wD//wD//wD//wD///8A//8A//8A//8A//8A//8A//8A//8A////////////////////////////////" +
        "AP//AP//AP//AP//AP//AP//AP//AP///wD//wD//wD//wD//wD//wD//wD//wD///8A//8A//8A//8A//8A//8A//8A//8A" +
        "////////////////////////////////AP//AP//AP//AP//AP//AP//AP//AP///wD//wD//wD//wD//wD//wD//wD//wD/" +
        "//8A//8A//8A//8A//8A//8A//8A//8A////////////////////////////////AP//AP//AP//AP//AP//AP//AP//AP//" +
        "/wD//wD//wD//wD//wD//wD//wD//wD///8A//8A//8A//8A//8A//8A//8A//8A////////////////////////////////" +
        "AP//AP//AP//AP//AP//AP//AP//AP///wD//wD//wD//wD//wD//wD//wD//wD///8A//8A//8A//8A//8A//8A//8A//8A" +
        "////////////////////////////////AP//AP//AP//AP//AP//AP//AP//AP///wD//wD//wD//wD//wD//wD//wD//wD/" +
        "//8A//8A//8A//8A//8A//8A//8A//8A////////////////////////////////AP//AP//AP//AP//AP//AP//AP//AP//" +
        "/wD//wD//wD//wD//wD//wD//wD//wD///8A//8A//8A//8A//8A//8A//8A//8AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
        "rHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcxIYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r" +
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAArHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcxIYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk" +
        "9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/rAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAArHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcx" +
        "IYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/rAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
        "rHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcxIYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r" +
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAArHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcxIYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk" +
        "9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/rAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAArHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcx" +
        "IYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/rAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" +
        "rHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcxIYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r" +
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAArHcxrHcxrHcxrHcxrHcxrHcxrHcxrHcxIYlkIYlkIYlkIYlkIYlkIYlkIYlkIYlk" +
        "9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r9Q/r")!)

    /// Pillow's `Image.open(f).convert("L")` of it.
    static let luma = [UInt8](Data(base64Encoded:
        "//////////+zs7Ozs7Ozs2lpaWlpaWlp4uLi4uLi4uL//////////7Ozs7Ozs7OzaWlpaWlpaWni4uLi4uLi4v//////////" +
        "s7Ozs7Ozs7NpaWlpaWlpaeLi4uLi4uLi//////////+zs7Ozs7Ozs2lpaWlpaWlp4uLi4uLi4uL//////////7Ozs7Ozs7Oz" +
        "aWlpaWlpaWni4uLi4uLi4v//////////s7Ozs7Ozs7NpaWlpaWlpaeLi4uLi4uLi//////////+zs7Ozs7Ozs2lpaWlpaWlp" +
        "4uLi4uLi4uL//////////7Ozs7Ozs7OzaWlpaWlpaWni4uLi4uLi4gAAAAAAAAAAf39/f39/f39mZmZmZmZmZm1tbW1tbW1t" +
        "AAAAAAAAAAB/f39/f39/f2ZmZmZmZmZmbW1tbW1tbW0AAAAAAAAAAH9/f39/f39/ZmZmZmZmZmZtbW1tbW1tbQAAAAAAAAAA" +
        "f39/f39/f39mZmZmZmZmZm1tbW1tbW1tAAAAAAAAAAB/f39/f39/f2ZmZmZmZmZmbW1tbW1tbW0AAAAAAAAAAH9/f39/f39/" +
        "ZmZmZmZmZmZtbW1tbW1tbQAAAAAAAAAAf39/f39/f39mZmZmZmZmZm1tbW1tbW1tAAAAAAAAAAB/f39/f39/f2ZmZmZmZmZm" +
        "bW1tbW1tbW0=")!)
}
